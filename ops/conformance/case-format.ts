/**
 * The conformance case language (test/fixtures/conformance/README.md): types and a
 * strict validator. Anything that is not in the format is rejected with a
 * one-line `CaseError` message.
 */

export type Scalar = number | boolean | null | string;

export const GUARD_OPS = ['truthy', 'falsy', '==', '!=', '<', '<=', '>', '>='] as const;
export type GuardOp = (typeof GUARD_OPS)[number];

export interface Guard {
  attr: string;
  op: GuardOp;
  value?: Scalar;
}

export type Action = (
  | { kind: 'trans'; target: string }
  | { kind: 'handled' }
  | { kind: 'unhandled' }
  | { kind: 'post_fifo'; signal: string }
  | { kind: 'post_lifo'; signal: string }
  | { kind: 'defer'; signal: string }
  | { kind: 'recall' }
  | { kind: 'scribble'; text: string }
  | { kind: 'log'; text: string }
  | { kind: 'set'; values: Record<string, Scalar> }
  | { kind: 'inc'; values: Record<string, number> }
) & { when?: Guard };

export interface Handler {
  signal: string;
  guard?: Guard;
  actions: Action[];
}

export interface StateDef {
  name: string;
  parent: string | null;
  /** entry/exit/init first (as ENTRY_SIGNAL/EXIT_SIGNAL/INIT_SIGNAL handlers), then `handlers` in file order */
  handlers: Handler[];
}

export type Step =
  | { kind: 'post_fifo' | 'post_lifo'; signal: string; run: boolean }
  | { kind: 'dispatch'; signal: string };

export interface ChartCase {
  case: string | null;
  name: string | null;
  attributes: Record<string, Scalar>;
  start: string;
  preStart: string[];
  completeAfterStart: boolean;
  states: Map<string, StateDef>;
  /** the steps, parsed (each output step echoes its signal as `event`) */
  events: Step[];
}

export class CaseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CaseError';
  }
}

const ACTION_KINDS = ['trans', 'handled', 'unhandled', 'post_fifo', 'post_lifo', 'defer', 'recall', 'scribble', 'log', 'set', 'inc'];
const STATE_KEYS = new Set(['parent', 'entry', 'exit', 'init', 'handlers', 'comment']);

function fail(message: string): never {
  throw new CaseError(message);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isScalar = (v: unknown): v is Scalar =>
  v === null || typeof v === 'boolean' || typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));
const show = (v: unknown): string => {
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
};

function signalName(v: unknown, where: string): string {
  if (typeof v !== 'string' || v.length === 0) fail(`${where}: signal must be a non-empty string, got ${show(v)}`);
  return v;
}

function parseGuard(v: unknown, where: string): Guard {
  if (!isObject(v)) fail(`${where}: guard must be an object, got ${show(v)}`);
  for (const k of Object.keys(v)) if (!['attr', 'op', 'value'].includes(k)) fail(`${where}: unknown guard key '${k}'`);
  if (typeof v.attr !== 'string' || v.attr.length === 0) fail(`${where}: guard needs a string 'attr'`);
  if (!(GUARD_OPS as readonly unknown[]).includes(v.op)) fail(`${where}: bad guard op ${show(v.op)} (expected one of ${GUARD_OPS.join(' ')})`);
  const op = v.op as GuardOp;
  if (op !== 'truthy' && op !== 'falsy' && !('value' in v)) fail(`${where}: guard op '${op}' needs a 'value'`);
  if ('value' in v && !isScalar(v.value)) fail(`${where}: guard value must be a number, boolean, string or null`);
  return 'value' in v ? { attr: v.attr, op, value: v.value as Scalar } : { attr: v.attr, op };
}

function parseAction(v: unknown, where: string, states: Record<string, unknown>): Action {
  if (!isObject(v)) fail(`${where}: action must be an object, got ${show(v)}`);
  const keys = Object.keys(v).filter((k) => k !== 'when');
  const unknown = keys.filter((k) => !ACTION_KINDS.includes(k));
  if (unknown.length > 0) fail(`${where}: unknown action '${unknown[0]}'`);
  if (keys.length !== 1) fail(`${where}: an action needs exactly one of ${ACTION_KINDS.join(', ')}; got ${show(v)}`);
  const kind = keys[0] as string;
  const arg = v[kind];
  let action: Action;
  switch (kind) {
    case 'trans':
      if (typeof arg !== 'string' || !Object.hasOwn(states, arg)) fail(`${where}: trans to unknown state ${show(arg)}`);
      action = { kind, target: arg };
      break;
    case 'handled':
    case 'unhandled':
    case 'recall':
      if (arg !== true) fail(`${where}: '${kind}' must be true, got ${show(arg)}`);
      action = { kind };
      break;
    case 'post_fifo':
    case 'post_lifo':
    case 'defer':
      action = { kind, signal: signalName(arg, `${where}.${kind}`) };
      break;
    case 'scribble':
    case 'log':
      if (typeof arg !== 'string') fail(`${where}: '${kind}' needs a string, got ${show(arg)}`);
      action = { kind, text: arg };
      break;
    case 'set': {
      if (!isObject(arg)) fail(`${where}: 'set' needs an object of attributes`);
      for (const [k, x] of Object.entries(arg)) if (!isScalar(x)) fail(`${where}: set ${k}: value must be a number, boolean, string or null`);
      action = { kind, values: arg as Record<string, Scalar> };
      break;
    }
    case 'inc': {
      if (!isObject(arg)) fail(`${where}: 'inc' needs an object of attributes`);
      for (const [k, x] of Object.entries(arg)) {
        if (typeof x !== 'number' || !Number.isFinite(x)) fail(`${where}: inc ${k}: amount must be a number`);
      }
      action = { kind, values: arg as Record<string, number> };
      break;
    }
    default:
      fail(`${where}: unknown action '${kind}'`);
  }
  if ('when' in v) action.when = parseGuard(v.when, `${where}.when`);
  return action;
}

function parseActions(v: unknown, where: string, states: Record<string, unknown>): Action[] {
  if (!Array.isArray(v)) fail(`${where}: must be a list of actions`);
  return v.map((a, i) => parseAction(a, `${where}[${i}]`, states));
}

function parseStep(v: unknown, where: string): Step {
  if (typeof v === 'string') return { kind: 'post_fifo', signal: signalName(v, where), run: true };
  if (!isObject(v)) fail(`${where}: step must be a signal name or an object, got ${show(v)}`);
  const kinds = Object.keys(v).filter((k) => k !== 'run');
  for (const k of kinds) if (!['post_fifo', 'post_lifo', 'dispatch'].includes(k)) fail(`${where}: unknown step key '${k}'`);
  if (kinds.length !== 1) fail(`${where}: a step needs exactly one of post_fifo, post_lifo, dispatch`);
  const kind = kinds[0] as 'post_fifo' | 'post_lifo' | 'dispatch';
  const signal = signalName(v[kind], `${where}.${kind}`);
  if ('run' in v && typeof v.run !== 'boolean') fail(`${where}: 'run' must be a boolean`);
  if (kind === 'dispatch') return { kind, signal }; // 'run' is meaningless for a direct dispatch
  return { kind, signal, run: v.run !== false };
}

/** Validates a parsed case JSON; throws CaseError with a one-line message. */
export function parseCase(raw: unknown): ChartCase {
  if (!isObject(raw)) fail('case must be a JSON object');
  // unknown top-level keys are informational (like 'comment') and ignored
  if ('case' in raw && raw.case !== null && typeof raw.case !== 'string') fail("'case' must be a string");
  if ('name' in raw && raw.name !== null && typeof raw.name !== 'string') fail("'name' must be a string or null");

  const attributes: Record<string, Scalar> = {};
  if ('attributes' in raw && raw.attributes !== null) {
    if (!isObject(raw.attributes)) fail("'attributes' must be an object");
    for (const [k, v] of Object.entries(raw.attributes)) {
      if (!isScalar(v)) fail(`attribute '${k}' must be a number, boolean, string or null`);
      attributes[k] = v;
    }
  }

  if (!isObject(raw.states) || Object.keys(raw.states).length === 0) fail("'states' must be a non-empty object");
  const rawStates = raw.states;
  const states = new Map<string, StateDef>();
  for (const [name, def] of Object.entries(rawStates)) {
    const where = `state '${name}'`;
    if (!isObject(def)) fail(`${where}: must be an object`);
    for (const k of Object.keys(def)) if (!STATE_KEYS.has(k)) fail(`${where}: unknown key '${k}'`);
    const parent = def.parent ?? null;
    if (parent !== null && (typeof parent !== 'string' || !Object.hasOwn(rawStates, parent))) {
      fail(`${where}: unknown parent state ${show(parent)}`);
    }
    const handlers: Handler[] = [];
    for (const [key, signal] of [
      ['entry', 'ENTRY_SIGNAL'],
      ['exit', 'EXIT_SIGNAL'],
      ['init', 'INIT_SIGNAL'],
    ] as const) {
      if (key in def) handlers.push({ signal, actions: parseActions(def[key], `${where}.${key}`, rawStates) });
    }
    if ('handlers' in def) {
      if (!Array.isArray(def.handlers)) fail(`${where}.handlers: must be a list`);
      def.handlers.forEach((h: unknown, i: number) => {
        const hw = `${where}.handlers[${i}]`;
        if (!isObject(h)) fail(`${hw}: must be an object`);
        for (const k of Object.keys(h)) if (!['signal', 'guard', 'actions'].includes(k)) fail(`${hw}: unknown key '${k}'`);
        const handler: Handler = {
          signal: signalName(h.signal, hw),
          actions: 'actions' in h ? parseActions(h.actions, `${hw}.actions`, rawStates) : [],
        };
        if ('guard' in h) handler.guard = parseGuard(h.guard, `${hw}.guard`);
        handlers.push(handler);
      });
    }
    states.set(name, { name, parent: parent as string | null, handlers });
  }
  // the parent graph must be a forest under top
  for (const name of states.keys()) {
    const seen = new Set<string>();
    for (let s: string | null = name; s !== null; s = states.get(s)!.parent) {
      if (seen.has(s)) fail(`state '${name}': parent chain has a cycle through '${s}'`);
      seen.add(s);
    }
  }

  if (!('start' in raw)) fail("missing 'start'");
  if (typeof raw.start !== 'string' || !states.has(raw.start)) fail(`unknown start state ${show(raw.start)}`);

  let preStart: string[] = [];
  if ('pre_start' in raw && raw.pre_start !== null) {
    if (!Array.isArray(raw.pre_start)) fail("'pre_start' must be a list of signal names");
    preStart = raw.pre_start.map((s, i) => signalName(s, `pre_start[${i}]`));
  }
  if ('complete_after_start' in raw && typeof raw.complete_after_start !== 'boolean') fail("'complete_after_start' must be a boolean");

  let events: ChartCase['events'] = [];
  if ('events' in raw) {
    if (!Array.isArray(raw.events)) fail("'events' must be a list");
    events = raw.events.map((e, i) => parseStep(e, `events[${i}]`));
  }

  return {
    case: (raw.case as string | undefined) ?? null,
    name: (raw.name as string | null | undefined) ?? null,
    attributes,
    start: raw.start,
    preStart,
    completeAfterStart: raw.complete_after_start !== false,
    states,
    events,
  };
}
