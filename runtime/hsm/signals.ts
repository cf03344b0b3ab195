/**
 * The process-wide signal registry: miros's "growing enum".
 *
 * Reserved signals keep miros's numbers (ENTRY_SIGNAL=1 … PUBLISH_META_SIGNAL=10);
 * user signals are numbered in order of first use (`len + 1`), so numbers depend
 * on registration order and only names should cross a process boundary.
 *
 * Like miros, reading an unknown property auto-registers it:
 * `signals.BATTERY_LOW` returns a fresh number the first time. This is done
 * with a Proxy; it means typos never fail, exactly as in miros. Prefer
 * `signals.append('NAME')` in new code. Symbol keys and a few names that tools
 * probe for (`then`, `toJSON`, `constructor`, …) are never auto-registered.
 */

export const HIGHEST_INNER_SIGNAL = 10;

const RESERVED = [
  'ENTRY_SIGNAL',
  'EXIT_SIGNAL',
  'INIT_SIGNAL',
  'REFLECTION_SIGNAL',
  'EMPTY_SIGNAL',
  'SEARCH_FOR_SUPER_SIGNAL',
  'STOP_FABRIC_SIGNAL',
  'STOP_ACTIVE_OBJECT_SIGNAL',
  'SUBSCRIBE_META_SIGNAL',
  'PUBLISH_META_SIGNAL',
] as const;

export class SignalRegistry {
  readonly #byName = new Map<string, number>();
  readonly #names: string[] = [];

  constructor() {
    for (const name of RESERVED) this.append(name);
  }

  /** Registers `name` if needed (idempotent) and returns its number. */
  append(name: string): number {
    const known = this.#byName.get(name);
    if (known !== undefined) return known;
    if (typeof name !== 'string' || name.length === 0) {
      throw new TypeError(`signal name must be a non-empty string, got ${String(name)}`);
    }
    this.#names.push(name);
    const n = this.#names.length;
    this.#byName.set(name, n);
    return n;
  }

  /** The number of a registered signal, or undefined (never registers). */
  numberFor(name: string): number | undefined {
    return this.#byName.get(name);
  }

  /** The name of a registered signal number; throws for an unknown number. */
  nameFor(n: number): string {
    const name = this.#names[n - 1];
    if (name === undefined) throw new RangeError(`unknown signal number ${n}`);
    return name;
  }

  has(nameOrNumber: string | number): boolean {
    return typeof nameOrNumber === 'number'
      ? Number.isInteger(nameOrNumber) && nameOrNumber >= 1 && nameOrNumber <= this.#names.length
      : this.#byName.has(nameOrNumber);
  }

  /** True for the reserved engine signals (numbers 1..10); unknown names are not inner. */
  isInner(nameOrNumber: string | number): boolean {
    const n = typeof nameOrNumber === 'number' ? nameOrNumber : this.#byName.get(nameOrNumber);
    return n !== undefined && n >= 1 && n <= HIGHEST_INNER_SIGNAL && n <= this.#names.length;
  }

  get size(): number {
    return this.#names.length;
  }

  /** Registered names in number order. */
  names(): string[] {
    return [...this.#names];
  }
}

/** Property names that must never auto-register (probed by await, JSON, inspectors, test tools). */
const NEVER_AUTO = new Set([
  'then',
  'catch',
  'finally',
  'toJSON',
  'toString',
  'valueOf',
  'constructor',
  'inspect',
  'nodeType',
  'tagName',
  'asymmetricMatch',
  '$$typeof',
  '@@__IMMUTABLE_ITERABLE__@@',
  '@@__IMMUTABLE_RECORD__@@',
  '_isMockFunction',
  '__proto__',
  'prototype',
  'length',
]);

export type Signals = SignalRegistry & { readonly [name: string]: number };

function makeSignals(registry: SignalRegistry): Signals {
  return new Proxy(registry, {
    get(target, prop) {
      if (typeof prop === 'symbol' || prop in target || NEVER_AUTO.has(prop)) {
        const value = Reflect.get(target, prop, target);
        return typeof value === 'function' ? value.bind(target) : value;
      }
      return target.append(prop);
    },
    has(target, prop) {
      return typeof prop === 'string' ? target.has(prop) || prop in target : prop in target;
    },
    set() {
      throw new TypeError('signals are append-only: use signals.append(name)');
    },
  }) as Signals;
}

/** The raw process-wide registry (no auto-registration); the engine uses this one. */
export const signalRegistry = new SignalRegistry();

/** The process-wide registry behind miros-style auto-registering property access. */
export const signals: Signals = makeSignals(signalRegistry);

export const ENTRY_SIGNAL = 1;
export const EXIT_SIGNAL = 2;
export const INIT_SIGNAL = 3;
export const REFLECTION_SIGNAL = 4;
export const EMPTY_SIGNAL = 5;
export const SEARCH_FOR_SUPER_SIGNAL = 6;
export const STOP_FABRIC_SIGNAL = 7;
export const STOP_ACTIVE_OBJECT_SIGNAL = 8;
export const SUBSCRIBE_META_SIGNAL = 9;
export const PUBLISH_META_SIGNAL = 10;
