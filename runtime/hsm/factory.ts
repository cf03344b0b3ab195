/**
 * miros `Factory`: build state functions from signal → handler tables instead
 * of writing them by hand.
 *
 *   const f = new Factory('fac');
 *   const outer = f.createState('outer').catch('A', (c) => c.trans(outer)).toMethod();
 *   f.nest(outer, null);
 *   f.startAt(outer);
 *
 * A factory state behaves exactly like a hand-written state that handles only
 * the signals it catches:
 * - a caught signal runs its handler; if the handler returns UNHANDLED the
 *   state answers SUPER with its parent (miros's template: no EMPTY_SIGNAL
 *   round trip, unlike a hand-written guard);
 * - every signal that is not caught — ENTRY_SIGNAL, EXIT_SIGNAL and
 *   INIT_SIGNAL included — answers SUPER with the parent. This is the same
 *   for every state: miros installed default HANDLED entry/exit/init
 *   callbacks for the first state registered on a chart only, which made its
 *   spy depend on registration order. To handle them, catch them.
 * - `nest`/`startAt` accept a state function or a state name (looked up in
 *   `states`; miros crashed on names). A state never nested has `top` as parent.
 */
import { ActiveObject, type ActiveObjectOptions } from './active-object.ts';
import type { Event } from './event.ts';
import { assert, state, type HsmEventProcessor, type State } from './event-processor.ts';
import { ReturnStatus } from './return-status.ts';
import { signalRegistry } from './signals.ts';

/** What a factory state runs for one signal: it has the shape of a state function. */
export type SignalHandler<C extends HsmEventProcessor = HsmEventProcessor> = State<C>;

/** The chainable builder returned by `Factory.createState`; `C` is the factory its handlers get. */
export class StateBlueprint<C extends HsmEventProcessor = HsmEventProcessor> {
  readonly #handlers = new Map<number, SignalHandler<C>>();

  constructor(
    readonly name: string,
    private readonly register: (name: string, handlers: Map<number, SignalHandler<C>>) => State<C>,
  ) {}

  /** Handles `signal` (a name or number) with `handler`; a later catch of the same signal replaces it. */
  catch(signal: string | number, handler: SignalHandler<C>): this {
    const n = typeof signal === 'number' ? (signalRegistry.nameFor(signal), signal) : signalRegistry.append(signal);
    this.#handlers.set(n, handler);
    return this;
  }

  /** Builds the state function (named `name`) and registers it in the factory's `states`. */
  toMethod(): State<C> {
    return this.register(this.name, new Map(this.#handlers));
  }
}

/**
 * The state table behind a factory: the states built by `createState(...).toMethod()`,
 * their handlers and parents. Factory and NetworkedFactory each own one and delegate to
 * it (composition), so both classes build states the same way. `C` is the chart the
 * states run on.
 */
export class StateTable<C extends HsmEventProcessor = HsmEventProcessor> {
  /** Every state built by `toMethod`, by name. */
  readonly states: Record<string, State<C>> = {};
  readonly #lookup = new Map<string, Map<number, SignalHandler<C>>>();
  readonly #parents = new Map<string, State>();

  /** `top` is the chart's top state: the parent of a state never nested. */
  constructor(private readonly top: State) {}

  createState(name: string): StateBlueprint<C> {
    assert(510, typeof name === 'string' && name.length > 0, 'createState needs a non-empty state name');
    return new StateBlueprint<C>(name, (n, handlers) => this.#register(n, handlers));
  }

  /** Sets the parent of `child` (null → top). */
  nest(child: State | string, parent: State | string | null): void {
    const c = this.resolve(child);
    this.#parents.set(c.name, parent === null ? this.top : this.resolve(parent));
  }

  handlersOf(stateOrName: State | string): Record<string, SignalHandler<C>> {
    const name = typeof stateOrName === 'string' ? stateOrName : stateOrName.name;
    const out: Record<string, SignalHandler<C>> = {};
    for (const [n, h] of this.#lookup.get(name) ?? []) out[signalRegistry.nameFor(n)] = h;
    return out;
  }

  /** A state function as it is, or the state built under that name. */
  resolve(s: State | string): State {
    if (typeof s === 'function') return s;
    const found = this.states[s];
    assert(520, found !== undefined, `Factory: no state named '${s}' (build it with createState('${s}')...toMethod())`);
    return found;
  }

  #register(name: string, handlers: Map<number, SignalHandler<C>>): State<C> {
    this.#lookup.set(name, handlers);
    const lookup = this.#lookup;
    const parents = this.#parents;
    const top = this.top;
    const fn = state(name, (chart: C, e: Event): ReturnStatus => {
      const handler = lookup.get(name)?.get(e.signal);
      const status = handler === undefined ? ReturnStatus.UNHANDLED : handler(chart, e);
      if (status === ReturnStatus.UNHANDLED) return chart.super(parents.get(name) ?? top);
      return status;
    });
    this.states[name] = fn;
    return fn;
  }
}

export class Factory extends ActiveObject {
  readonly #table: StateTable<this>;

  constructor(nameOrOptions: string | ActiveObjectOptions = {}) {
    super(nameOrOptions);
    this.#table = new StateTable<this>(this.top);
  }

  /** Every state built by `toMethod`, by name. */
  get states(): Record<string, State<this>> {
    return this.#table.states;
  }

  /** A builder whose handlers get this factory (typed as its class) as their chart. */
  createState(name: string): StateBlueprint<this> {
    return this.#table.createState(name);
  }

  /** Sets the parent of `child` (null → top). Chainable. */
  nest(child: State | string, parent: State | string | null): this {
    this.#table.nest(child, parent);
    return this;
  }

  /** The handler table of a state (signal name → handler), for inspection. */
  handlersOf(stateOrName: State | string): Record<string, SignalHandler<this>> {
    return this.#table.handlersOf(stateOrName);
  }

  override startAt(initialState: State | string): void {
    super.startAt(this.#table.resolve(initialState));
  }
}
