/**
 * Runs a conformance case (test/fixtures/conformance/README.md) on our engine and
 * returns exactly the object the Python oracle wrote to expected/<case>.json.
 */
// the engine's modules one by one, not runtime/hsm/index.ts: the runner is a short-lived
// process and skips loading what it does not use (ActiveObject, the router, node:crypto)
import { Event } from '../../runtime/hsm/event.ts';
import { type State } from '../../runtime/hsm/event-processor.ts';
import { HsmWithQueues } from '../../runtime/hsm/hsm-with-queues.ts';
import { stripped, strippedTraceLines } from '../../runtime/hsm/instrumentation.ts';
import { ReturnStatus } from '../../runtime/hsm/return-status.ts';
import { signals } from '../../runtime/hsm/signals.ts';
import { parseCase, type Action, type ChartCase, type Guard, type Scalar } from './case-format.ts';

export { CaseError, parseCase } from './case-format.ts';

export interface Snapshot {
  spy: string[];
  trace: string[];
  log: string[];
  state: string;
  attrs: Record<string, Scalar>;
}

export interface StepSnapshot extends Snapshot {
  /** the step's signal name, also for object steps ({"dispatch": "A"} -> "A") */
  event: string;
}

export interface CaseResult {
  case: string | null;
  start: Snapshot;
  steps: StepSnapshot[];
}

/** A chart built from a case: the chart, its states by name, its attributes and log. */
export interface BuiltChart {
  chart: HsmWithQueues;
  states: Map<string, State>;
  attrs: Record<string, Scalar>;
  log: string[];
}

/** Python truthiness for the scalar attribute values. */
const truthy = (v: Scalar | undefined): boolean => !(v === undefined || v === null || v === false || v === 0 || v === '');

/** Python comparison semantics for scalars (bools compare as ints; ordering across types is false). */
function compare(a: Scalar | undefined, op: Guard['op'], b: Scalar | undefined): boolean {
  const num = (x: Scalar | undefined): number | undefined =>
    typeof x === 'number' ? x : typeof x === 'boolean' ? Number(x) : undefined;
  const na = num(a);
  const nb = num(b);
  if (op === '==' || op === '!=') {
    const eq = na !== undefined && nb !== undefined ? na === nb : (a ?? null) === (b ?? null);
    return op === '==' ? eq : !eq;
  }
  let x: number | string;
  let y: number | string;
  if (na !== undefined && nb !== undefined) [x, y] = [na, nb];
  else if (typeof a === 'string' && typeof b === 'string') [x, y] = [a, b];
  else return false; // Python would raise TypeError
  switch (op) {
    case '<':
      return x < y;
    case '<=':
      return x <= y;
    case '>':
      return x > y;
    default:
      return x >= y;
  }
}

function guardPasses(g: Guard, attrs: Record<string, Scalar>): boolean {
  const v = attrs[g.attr];
  if (g.op === 'truthy') return truthy(v);
  if (g.op === 'falsy') return !truthy(v);
  return compare(v, g.op, g.value);
}

/** Builds the chart of a validated case: one named state function per case state. */
export function buildChart(c: ChartCase, options: { instrumented?: boolean } = {}): BuiltChart {
  const chart = new HsmWithQueues({ name: c.name ?? undefined, instrumented: options.instrumented ?? true });
  const attrs: Record<string, Scalar> = { ...c.attributes };
  const log: string[] = [];
  const states = new Map<string, State>();

  const run = (actions: Action[]): ReturnStatus => {
    let status = ReturnStatus.HANDLED;
    for (const a of actions) {
      if (a.when !== undefined && !guardPasses(a.when, attrs)) continue;
      switch (a.kind) {
        case 'trans':
          status = chart.trans(states.get(a.target)!);
          break;
        case 'handled':
          status = ReturnStatus.HANDLED;
          break;
        case 'unhandled':
          status = ReturnStatus.UNHANDLED;
          break;
        case 'post_fifo':
          chart.postFifo(new Event(a.signal));
          break;
        case 'post_lifo':
          chart.postLifo(new Event(a.signal));
          break;
        case 'defer':
          chart.defer(new Event(a.signal));
          break;
        case 'recall':
          chart.recall();
          break;
        case 'scribble':
          chart.scribble(a.text);
          break;
        case 'log':
          log.push(a.text);
          break;
        case 'set':
          Object.assign(attrs, a.values);
          break;
        case 'inc':
          for (const [k, n] of Object.entries(a.values)) attrs[k] = Number(attrs[k] ?? 0) + n;
          break;
      }
    }
    return status;
  };

  for (const def of c.states.values()) {
    // handlers by signal number (an array index: this runs on every state call), in file
    // order (entry/exit/init first)
    const table: (typeof def.handlers | undefined)[] = [];
    for (const h of def.handlers) {
      const n = signals.append(h.signal);
      const list = table[n];
      if (list) list.push(h);
      else table[n] = [h];
    }
    const parentName = def.parent;
    let parent: State | undefined; // looked up on the first SUPER (every state is built by then)
    // named at creation by a computed key (not renamed by state()): the function keeps fast
    // properties, so the spy reads its StateLines from its own property
    const named = { [def.name]: (_chart: HsmWithQueues, e: Event): ReturnStatus => {
      const handlers = table[e.signal];
      if (handlers === undefined) {
        parent ??= parentName === null ? chart.top : states.get(parentName)!;
        return chart.super(parent);
      }
      for (const h of handlers) {
        if (h.guard === undefined || guardPasses(h.guard, attrs)) return run(h.actions);
      }
      return ReturnStatus.UNHANDLED; // every guard failed: the engine asks again with EMPTY_SIGNAL
    } };
    const fn = named[def.name] as State;
    states.set(def.name, fn);
  }
  return { chart, states, attrs, log };
}

/** What a chart shows after start or after a step; read it at once (the next step changes it). */
export interface LiveSnapshot {
  chart: HsmWithQueues;
  attrs: Record<string, Scalar>;
  log: string[];
}

/** Takes the snapshot the oracle writes: spy and trace since the last one (then cleared), log, state, attributes. */
function takeSnapshot({ chart, attrs, log }: LiveSnapshot): Snapshot {
  const spy = chart.spy() ?? [];
  chart.clearSpy();
  // the lines of stripped(chart.trace()), without formatting timestamps only to remove them
  const trace =
    strippedTraceLines(chart.instrumentation.fullTrace, chart.name) ?? stripped(chart.trace() ?? '');
  chart.clearTrace();
  return { spy, trace, log: log.splice(0), state: chart.currentState(), attrs: { ...attrs } };
}

/**
 * Runs a case step by step: `onStart` is called after start, then `onStep` after
 * each step with the step's signal name; each reads the chart at once (with
 * `takeSnapshot` or `snapshotJson`). Nothing is kept here.
 */
export function runCaseSteps(
  raw: unknown,
  onStart: (caseId: string | null, live: LiveSnapshot) => void,
  onStep: (event: string, live: LiveSnapshot) => void,
): void {
  const c = parseCase(raw);
  const { chart, states, attrs, log } = buildChart(c);
  const live: LiveSnapshot = { chart, attrs, log };

  for (const sig of c.preStart) chart.postFifo(new Event(sig));
  chart.startAt(states.get(c.start)!);
  if (c.completeAfterStart) chart.completeCircuit();
  onStart(c.case, live);

  // one Event per signal name of the case, posted again at each step that names it (events
  // are immutable; the map holds at most the case's own signal names)
  const events = new Map<string, Event>();
  for (const step of c.events) {
    let e = events.get(step.signal);
    if (e === undefined) events.set(step.signal, (e = new Event(step.signal)));
    if (step.kind === 'dispatch') {
      chart.dispatch(e);
    } else {
      if (step.kind === 'post_fifo') chart.postFifo(e);
      else chart.postLifo(e);
      if (step.run) chart.completeCircuit();
    }
    onStep(step.signal, live);
  }
}

/** Runs a case (raw JSON value or validated) and returns the oracle's result object. */
export function runCase(raw: unknown): CaseResult {
  let result: CaseResult | undefined;
  const steps: StepSnapshot[] = [];
  runCaseSteps(
    raw,
    (caseId, live) => {
      result = { case: caseId, start: takeSnapshot(live), steps };
    },
    (event, live) => steps.push({ event, ...takeSnapshot(live) }),
  );
  return result as CaseResult;
}

/** Steps serialised together: one JSON.stringify call makes one flat string of a few dozen KB. */
const STEPS_PER_CHUNK = 256;

/**
 * Runs a case and writes its result object as JSON text, the same text as
 * `JSON.stringify(runCase(raw))`, in chunks of STEPS_PER_CHUNK steps as they are
 * taken: a long case does not hold every step in memory nor build its whole text
 * as one string. The text ends with a newline.
 */
export function writeCaseJson(raw: unknown, write: (chunk: string) => void): void {
  let pending: StepSnapshot[] = [];
  let first = true;
  const flush = (): void => {
    if (pending.length === 0) return;
    const text = JSON.stringify(pending); // "[{...},{...}]"
    write((first ? '' : ',') + text.slice(1, -1));
    first = false;
    pending = [];
  };
  runCaseSteps(
    raw,
    (caseId, live) => {
      write(`{"case":${JSON.stringify(caseId)},"start":${JSON.stringify(takeSnapshot(live))},"steps":[`);
    },
    (event, live) => {
      const { spy, trace, log, state, attrs } = takeSnapshot(live);
      pending.push({ event, spy, trace, log, state, attrs }); // one object, keys in the oracle's order
      if (pending.length >= STEPS_PER_CHUNK) flush();
    },
  );
  flush();
  write(']}\n');
}
