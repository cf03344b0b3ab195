/**
 * The hierarchical event processor: Samek's QHsm algorithm as miros runs it.
 *
 * Ported literally from miros `hsm.py` (HsmEventProcessor.init / dispatch /
 * trans_): every state-function call is observable in the spy, so this makes
 * exactly the same calls in the same order, including the "redundant" ones
 * (e.g. the SEARCH_FOR_SUPER after an EXIT that returned HANDLED).
 *
 * A state is a plain named function `(chart, e) => ReturnStatus`; its name is
 * `fn.name`. When `chart.instrumented` is true every call (except `top`) is
 * spied: `<SIG>:<state>` before, `<SIG>:<state>:HOOK` after a handled user
 * signal. With instrumentation off the hot path has one boolean test per call.
 */
import { realEnvironment, type Environment } from '../env/environment.ts';
import { Event } from './event.ts';
import {
  EMPTY_SIGNAL,
  ENTRY_SIGNAL,
  EXIT_SIGNAL,
  HIGHEST_INNER_SIGNAL,
  INIT_SIGNAL,
  SEARCH_FOR_SUPER_SIGNAL,
} from './signals.ts';
import { ReturnStatus } from './return-status.ts';
import {
  Instrumentation,
  STATE_LINES,
  SpyKind,
  TOP_LINES,
  TRACE_START_AT,
  TupleFlag,
  forgetStateLines,
  type StateLines,
  type WithLines,
} from './instrumentation.ts';

/**
 * A state function `(chart, e) => ReturnStatus`; `C` is the chart it runs on (by default
 * any chart: `super`, `trans`, `top`, …). Written as a method so that `chart` is checked
 * bivariantly: a state for a subclass, `(chart: ActiveObject, e) => …`, is still a State
 * (the engine always passes the chart the state runs on).
 */
export type State<C extends HsmEventProcessor = HsmEventProcessor> = {
  state(chart: C, e: Event): ReturnStatus;
}['state'];

/** Sizes the transition path arrays; a deeper chart (or a malformed one that loops) fails assertion 1xx/2xx/3xx. */
export const MAX_NEST_DEPTH = 64;

/** Dev-only checks (status validity); the bounds checks that prevent endless loops always run. */
const DEV_CHECKS = globalThis.process?.env?.MIROS_UNSAFE !== '1';

/** A broken invariant of the chart topology or of the state-function contract. */
export class HsmTopologyError extends Error {
  constructor(
    readonly id: number,
    message: string,
  ) {
    super(`[hsm assert ${id}] ${message}`);
    this.name = 'HsmTopologyError';
  }
}

/**
 * Throws a numbered assertion error. The engine writes `if (!cond) fail(id, message)`
 * rather than `assert(id, cond, message)` on its hot path: the message (often built
 * from `fn.name`, a slow native getter) is then only made when the check fails.
 */
function fail(id: number, message: string): never {
  throw new HsmTopologyError(id, message);
}

/** Numbered assertion, in the style of QP's `Q_ASSERT_ID`. */
export function assert(id: number, cond: unknown, message = 'assertion failed'): asserts cond {
  if (!cond) throw new HsmTopologyError(id, message);
}

// The inner events the engine sends (immutable, shared by every chart).
const ENTRY_E = Object.freeze(new Event(ENTRY_SIGNAL));
const EXIT_E = Object.freeze(new Event(EXIT_SIGNAL));
const INIT_E = Object.freeze(new Event(INIT_SIGNAL));
const SUPER_E = Object.freeze(new Event(SEARCH_FOR_SUPER_SIGNAL));
const EMPTY_E = Object.freeze(new Event(EMPTY_SIGNAL));

/** The outermost pseudo-state of every chart: ignores everything, is never spied. */
export function top(_chart: unknown, _e: Event): ReturnStatus {
  return ReturnStatus.IGNORED;
}

/** Gives an anonymous state function a name (the name is what spy/trace print). */
export function state<F extends State>(name: string, fn: F): F {
  Object.defineProperty(fn, 'name', { value: name, configurable: true });
  forgetStateLines(fn); // the spy shows the new name from now on
  return fn;
}

/** Identity: states are instrumented by the chart, no decorator is needed (kept for miros-familiar code). */
export function spyOn<F extends State>(fn: F): F {
  return fn;
}

export interface ChartOptions {
  /** printed in trace lines; unset → `None` */
  name?: string;
  /** spy/trace on (default true) */
  instrumented?: boolean;
  /** queue and defer-queue length (default 500); a full queue drops its oldest event, like a Python deque */
  maxlen?: number;
  /** the clock, timers and randomness the chart uses (default: the real ones) */
  environment?: Environment;
}

export interface AugmentOptions {
  other: unknown;
  name: string;
  relationship?: 'mutual' | null;
}

/** miros `HsmEventProcessor` + `InstrumentedHsmEventProcessor`: a synchronous chart without queues. */
export class HsmEventProcessor {
  name: string | undefined;
  instrumented: boolean;
  /** `state.fun`: the current (settled) state */
  readonly state: { fun: State } = { fun: top };
  /** `temp.fun`: scratch register; super states and transition targets pass through it */
  readonly temp: { fun: State } = { fun: top };
  /** `event.ignored`: the last dispatched event reached top */
  readonly event = { ignored: false };
  readonly top: State = top;
  /** true once a state function ran instrumented */
  spiedOn = false;
  /** @internal spy/trace buffers (only touched when instrumented) */
  readonly instrumentation = new Instrumentation();
  /** @internal the transition path (tpath), sized by MAX_NEST_DEPTH */
  readonly tpath: State[] = new Array<State>(MAX_NEST_DEPTH).fill(top);

  /** the clock, timers, randomness and transport of this chart (options.environment) */
  readonly env: Environment;

  constructor(options: ChartOptions = {}) {
    this.env = options.environment ?? realEnvironment;
    this.name = options.name ?? undefined;
    this.instrumented = options.instrumented ?? true;
  }

  /** Sets temp.fun to the parent state and returns SUPER: `return chart.super(outer)`. */
  super(parent: State): ReturnStatus {
    this.temp.fun = parent;
    return ReturnStatus.SUPER;
  }

  /** Sets temp.fun to the target and returns TRAN: `return chart.trans(target)`. */
  trans(target: State): ReturnStatus {
    this.temp.fun = target;
    return ReturnStatus.TRAN;
  }

  /** Enters `initialState` (and its init chain) from top. */
  startAt(initialState: State): void {
    this.state.fun = this.top;
    this.temp.fun = initialState;
    if (!this.instrumented) {
      init(this);
      return;
    }
    const inst = this.instrumentation;
    // rtc.spy is not cleared: posts made before startAt show before START, as in miros
    inst.rtcSpy.pushText('START');
    inst.rtcTuples.push(TupleFlag.start | TupleFlag.internal, 0, Number.NaN);
    init(this);
    inst.flushRtcSpy();
    if (inst.rtcTuples.firstIsStart()) {
      inst.fullTrace.push(this.env.nowMicros(), TOP_LINES, TRACE_START_AT, linesOf(inst, this.temp.fun));
    }
  }

  /** One run-to-completion step for `e` (no queue involved). */
  dispatch(e: Event): void {
    if (!this.instrumented) {
      dispatch(this, e);
      return;
    }
    const inst = this.instrumentation;
    inst.rtcSpy.clear();
    const startState = linesOf(inst, this.state.fun);
    inst.rtcTuples.clear();
    dispatch(this, e);
    // miros is_signal_hooked: the last user-signal tuple before the first hook
    const tuples = inst.rtcTuples;
    const hooked = tuples.findTraceSignal();
    const signal = tuples.traceSignal;
    const time = tuples.traceTime;
    if (!hooked && !this.event.ignored) {
      inst.fullTrace.push(Number.isNaN(time) ? this.env.nowMicros() : time, startState, signal, linesOf(inst, this.state.fun));
    }
    inst.flushRtcSpy();
  }

  /** True if the chart is in `target` or one of its substates (spied like miros: it sends SEARCH_FOR_SUPER). */
  isIn(target: State): boolean {
    let result = false;
    let depth = 0;
    for (;;) {
      let r: ReturnStatus;
      if (this.temp.fun === target) {
        result = true;
        r = ReturnStatus.IGNORED;
      } else {
        r = call(this, this.temp.fun, SUPER_E);
      }
      if (r === ReturnStatus.IGNORED) break;
      if (++depth >= MAX_NEST_DEPTH) fail(410, 'isIn: state nesting too deep or cyclic');
    }
    this.temp.fun = this.state.fun;
    return result;
  }

  /** The child of `parent` on the way to the current state (the current state if it is `parent`). */
  childState(parent: State): State {
    let confirmed = false;
    let child = this.state.fun;
    this.temp.fun = this.state.fun;
    let depth = 0;
    for (;;) {
      let r: ReturnStatus;
      if (this.temp.fun === parent) {
        confirmed = true;
        r = ReturnStatus.IGNORED;
      } else {
        child = this.temp.fun;
        r = call(this, this.temp.fun, SUPER_E);
      }
      if (r === ReturnStatus.IGNORED) break;
      if (++depth >= MAX_NEST_DEPTH) fail(420, 'childState: state nesting too deep or cyclic');
    }
    this.temp.fun = this.state.fun;
    if (!confirmed) fail(421, `childState: the chart is not in ${parent.name}`);
    return child;
  }

  /** Name of the current state. */
  currentState(): string {
    return this.state.fun.name;
  }

  /** Adds `other` as attribute `name` unless present; 'mutual' also adds this chart to `other` under this.name. */
  augment({ other, name, relationship }: AugmentOptions): void {
    if (!(name in this)) (this as Record<string, unknown>)[name] = other;
    if (relationship === 'mutual') {
      const peer = other as { augment?: (o: AugmentOptions) => void };
      assert(430, typeof peer.augment === 'function' && this.name, "augment 'mutual' needs a named chart and another chart");
      peer.augment({ other: this, name: this.name, relationship: null });
    }
  }

  /** Writes raw text into the spy at this point of the RTC step. */
  scribble(text: string): void {
    if (this.instrumented) this.instrumentation.rtcSpy.pushText(text);
  }

  /** The full spy (lines since the last clearSpy), or undefined when not instrumented. */
  spy(): string[] | undefined {
    return this.instrumented ? this.instrumentation.fullSpy.toArray() : undefined;
  }

  /** Spy lines of the last run-to-completion step. */
  spyRtc(): string[] {
    return this.instrumentation.rtcSpy.toArray();
  }

  spyFull(): string[] {
    return this.instrumentation.fullSpy.toArray();
  }

  /** miros format: `"\n"` followed by every trace line, each ending with `"\n"`; undefined when not instrumented. */
  trace(): string | undefined {
    if (!this.instrumented) return undefined;
    return this.instrumentation.fullTrace.text(this.name);
  }

  clearSpy(): void {
    if (this.instrumented) this.instrumentation.fullSpy.clear();
  }

  clearTrace(): void {
    if (this.instrumented) this.instrumentation.fullTrace.clear();
  }
}

/** Calls a state, through the spy when instrumented (top is never spied). */
function call(chart: HsmEventProcessor, fn: State, e: Event): ReturnStatus {
  if (chart.instrumented && fn !== chart.top) return spyCall(chart, fn, e);
  return fn(chart, e);
}

/**
 * miros `spy_on`: `<SIG>:<state>` before the call, `<SIG>:<state>:HOOK` after a handled user
 * signal, recorded as structured records (formatted when read). The time of a user-signal
 * call is taken only when the call did not pass the event on to its parent (SUPER) and
 * was not a hook: a trace line takes the time of the call where the event stopped
 * bubbling (a SUPER call never ends the bubbling with a trace line: top ignores the
 * event; a hooked step writes no trace line).
 */
function spyCall(chart: HsmEventProcessor, fn: State, e: Event): ReturnStatus {
  chart.spiedOn = true;
  const inst = chart.instrumentation;
  const signal = e.signal;
  // the fast path inline (a state call is the engine's innermost loop): the state's
  // StateLines from the chart's table, the interned id of this (state, signal) record
  // written straight into the rtc spy ring
  const lines = linesOf(inst, fn);
  const id = lines.callIds[signal];
  const log = inst.rtcSpy;
  const size = log.size;
  const ids = log.ids;
  if (id !== undefined && size < ids.length) {
    let i = log.head + size;
    if (i >= ids.length) i -= ids.length;
    ids[i] = id;
    log.size = size + 1;
  } else {
    spyCallRecord(inst, lines, e);
  }
  const status = fn(chart, e);
  if (signal > HIGHEST_INNER_SIGNAL) spyUserSignal(chart, lines, e, status);
  else inst.rtcTuples.count++; // an internal tuple is only counted
  return status;
}

/**
 * The StateLines of `fn`: its own property when it has one (a plain function holds it in a
 * fast property, and all of them share one map), else a scan of the chart's StateTable (a
 * renamed function has slow properties), else entered there.
 */
function linesOf(inst: Instrumentation, fn: State): StateLines {
  const own = (fn as WithLines)[STATE_LINES];
  if (own !== undefined && !own.stale) return own;
  const fns = inst.states.fns;
  const n = fns.length;
  let k = 0;
  while (k < n && fns[k] !== fn) k++;
  if (k < n) {
    const lines = inst.states.lines[k] as StateLines;
    if (!lines.stale) return lines;
  }
  return inst.states.enter(fn);
}

/** The call record when it is not interned yet or the ring must grow or drop. */
function spyCallRecord(inst: Instrumentation, lines: StateLines, e: Event): void {
  const id = lines.id(SpyKind.signal, e.signalName, e.signal);
  if (id >= 0) inst.rtcSpy.pushCall(id);
  else inst.rtcSpy.push(SpyKind.signal, e.signalName, lines.name);
}

/** After a state call with a user signal: the hook record, the tuple the trace reads. */
function spyUserSignal(chart: HsmEventProcessor, lines: StateLines, e: Event, status: ReturnStatus): void {
  const inst = chart.instrumentation;
  if (status === ReturnStatus.HANDLED) {
    const hookId = lines.id(SpyKind.hook, e.signalName, e.signal);
    if (hookId >= 0) inst.rtcSpy.pushCall(hookId);
    else inst.rtcSpy.push(SpyKind.hook, e.signalName, lines.name);
    inst.rtcTuples.push(TupleFlag.hook, e.signal, Number.NaN); // a hooked step has no trace line
  } else {
    inst.rtcTuples.push(0, e.signal, status === ReturnStatus.SUPER ? Number.NaN : chart.env.nowMicros());
  }
}

function checkStatus(fn: State, r: unknown): void {
  if (DEV_CHECKS && (typeof r !== 'number' || r < ReturnStatus.SUPER || r > ReturnStatus.TRAN_XP)) {
    throw new HsmTopologyError(300, `state handler ${fn.name || '<anonymous>'} is not returning a valid status (${String(r)})`);
  }
}

/**
 * The topmost initial transition (miros `init`, hsm.py L365): climb from the
 * target to the current outermost state recording the path, enter it outside
 * in, send INIT, and repeat while INIT answers with a transition. Init
 * transitions may only go into the chart.
 */
export function init(chart: HsmEventProcessor): void {
  const tpath = chart.tpath;
  let outermost = chart.state.fun;
  let maxIndex = 0; // highest tpath slot written (miros's list length - 1)
  for (;;) {
    tpath[0] = chart.temp.fun;
    let index = 0;
    let previousSuper: State | undefined;
    while (chart.temp.fun !== outermost) {
      index++;
      if (index >= MAX_NEST_DEPTH) fail(110, 'init: state nesting deeper than MAX_NEST_DEPTH');
      call(chart, chart.temp.fun, SUPER_E);
      if (previousSuper === chart.temp.fun) fail(120, 'impossible chart topology for init: an init transition must go into the chart');
      tpath[index] = chart.temp.fun;
      if (index > maxIndex) maxIndex = index;
      previousSuper = chart.temp.fun;
    }
    chart.temp.fun = tpath[0];
    if (index === 0) {
      // an init transition to the state itself: miros enters tpath[-1] (its
      // list's last slot) and sends INIT again
      call(chart, tpath[maxIndex], ENTRY_E);
    }
    // enter from the outside in, not entering the outermost (already entered)
    while (index > 0) {
      index--;
      call(chart, tpath[index], ENTRY_E);
    }
    outermost = tpath[0];
    if (call(chart, outermost, INIT_E) !== ReturnStatus.TRAN) break;
  }
  chart.state.fun = outermost;
  chart.temp.fun = outermost;
}

/**
 * One run-to-completion step (miros `dispatch`, hsm.py L431; Samek
 * QHsm::dispatch). t = current state, s = the state that handled e (S),
 * T = the transition target (in temp.fun after a TRAN).
 */
export function dispatch(chart: HsmEventProcessor, e: Event): void {
  const tpath = chart.tpath;
  chart.event.ignored = false;
  let t = chart.state.fun;
  let s: State;
  let r: ReturnStatus;
  let depth = 0;

  // (1) find S: bubble e outward from the current state until a state does not answer SUPER
  for (;;) {
    s = chart.temp.fun;
    r = call(chart, s, e);
    checkStatus(s, r);
    // a guard failed: ask the same state for its super state with EMPTY_SIGNAL
    if (r === ReturnStatus.UNHANDLED) r = call(chart, s, EMPTY_E);
    if (r !== ReturnStatus.SUPER) break;
    if (++depth >= MAX_NEST_DEPTH) fail(210, `dispatch: ${e.signalName} bubbled through more than MAX_NEST_DEPTH states`);
  }

  if (r >= ReturnStatus.TRAN) {
    tpath[0] = chart.temp.fun; // T
    tpath[1] = t; // the current state
    tpath[2] = s; // S

    // (2) exit from the current state up to (not including) S; together
    // with case (d) of tranSimple this gives topology (h): S is an ancestor
    // of the current state. A state that handles EXIT is asked for its super
    // explicitly, one that does not answered SUPER from the EXIT call itself.
    depth = 0;
    while (t !== s) {
      r = call(chart, t, EXIT_E);
      checkStatus(t, r);
      if (r === ReturnStatus.HANDLED) call(chart, t, SUPER_E);
      t = chart.temp.fun;
      if (++depth >= MAX_NEST_DEPTH) fail(220, `dispatch: ${s.name} is not an ancestor of ${tpath[1].name}`);
    }

    // (3) the topology search: exits the source side, fills the entry path
    let ip = tranSimple(chart, tpath);

    // (4) enter the target side, outermost first
    for (; ip >= 0; ip--) call(chart, tpath[ip], ENTRY_E);

    // (5) drill into T's init chain
    t = enterTarget(chart, tpath, tpath[0]);
  } else if (r === ReturnStatus.HANDLED) {
    // a hook: handled without transition, the state does not change
  } else if (r === ReturnStatus.IGNORED) {
    // reached top: nobody handles e
    chart.event.ignored = true;
  }

  chart.state.fun = t;
  chart.temp.fun = t;
}

/**
 * Follows INIT transitions from the freshly entered target `t` down to a
 * leaf: each init target's path is climbed back up to `t` and entered
 * outside in. Returns the state the chart settles in.
 */
function enterTarget(chart: HsmEventProcessor, tpath: State[], t: State): State {
  chart.temp.fun = t;
  while (call(chart, t, INIT_E) === ReturnStatus.TRAN) {
    tpath[0] = chart.temp.fun;
    let ip = 0;
    call(chart, chart.temp.fun, SUPER_E);
    while (chart.temp.fun !== t) {
      // miros would loop forever here: the init target is not below t
      if (chart.temp.fun === chart.top) fail(240, `${t.name}'s init transition must target one of its substates`);
      ip++;
      if (ip >= MAX_NEST_DEPTH) fail(241, 'init chain deeper than MAX_NEST_DEPTH');
      tpath[ip] = chart.temp.fun;
      call(chart, chart.temp.fun, SUPER_E);
    }
    chart.temp.fun = tpath[0];
    do {
      call(chart, tpath[ip], ENTRY_E);
      ip--;
    } while (ip >= 0);
    t = tpath[0];
  }
  return t;
}

/**
 * miros `trans_`, simple topologies (a)–(d). tpath[0] = T, tpath[2] = S.
 * Returns ip: enter tpath[ip..0] (−1 = enter nothing).
 */
function tranSimple(chart: HsmEventProcessor, tpath: State[]): number {
  const T = tpath[0];
  const S = tpath[2];

  // (a) check source == target: self transition, exit S and enter T
  if (S === T) {
    call(chart, S, EXIT_E);
    return 0;
  }

  call(chart, T, SUPER_E);
  const tSuper = chart.temp.fun;

  // (b) check S == T->super: T is a direct child of S, just enter T
  if (S === tSuper) return 0;

  call(chart, S, SUPER_E); // temp.fun = S->super

  // (c) check S->super == T->super: siblings
  if (chart.temp.fun === tSuper) {
    call(chart, S, EXIT_E);
    return 0;
  }

  // (d) check S->super == T: T is S's parent; T is neither exited nor entered
  if (chart.temp.fun === T) {
    call(chart, S, EXIT_E);
    return -1;
  }

  return tranComplex(chart, tpath, S, tSuper);
}

/** miros `trans_`, topologies (e)–(g): climb from T, then from S, to the least common ancestor. */
function tranComplex(chart: HsmEventProcessor, tpath: State[], S: State, tSuper: State): number {
  // (e) check S == T->super->super..: is S an ancestor of T?
  let iq = 0; // LCA not found yet
  let ip = 1; // enter T and T->super
  tpath[1] = tSuper;
  let t = chart.temp.fun; // S->super
  let r = call(chart, tpath[1], SUPER_E);
  while (r === ReturnStatus.SUPER) {
    ip++;
    if (ip >= MAX_NEST_DEPTH) fail(310, 'transition path deeper than MAX_NEST_DEPTH');
    tpath[ip] = chart.temp.fun;
    if (chart.temp.fun === S) {
      iq = 1; // found S: don't enter it, we come from inside
      ip--;
      r = ReturnStatus.HANDLED;
    } else {
      r = call(chart, chart.temp.fun, SUPER_E);
    }
  }
  if (iq !== 0) return ip;

  call(chart, S, EXIT_E);

  // (f) check S->super == T->super->super..: tpath holds T's ancestors up to top
  iq = indexIn(tpath, ip, t);
  if (iq >= 0) return iq - 1; // do not enter the LCA

  // (g) check each S->super->super.. against T->super->super..: exit outward until the LCA
  let depth = 0;
  do {
    if (call(chart, t, EXIT_E) === ReturnStatus.HANDLED) call(chart, t, SUPER_E);
    t = chart.temp.fun; // S->super->super..
    iq = indexIn(tpath, ip, t);
    if (++depth >= MAX_NEST_DEPTH) fail(320, 'transition: no least common ancestor found');
  } while (iq < 0);
  return iq - 1; // do not enter the LCA
}

/** The index of `s` in tpath[ip..0] (scanning from ip down), or -1. */
function indexIn(tpath: State[], ip: number, s: State): number {
  for (let iq = ip; iq >= 0; iq--) if (tpath[iq] === s) return iq;
  return -1;
}
