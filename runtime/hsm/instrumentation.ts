/**
 * Spy and trace: miros's instrumentation buffers and their exact text formats.
 *
 * Cheap when on: the engine keeps spy and trace as small structured records
 * (kind, signal, state, numbers) in preallocated rings and builds the
 * miros-exact text only when someone reads it (`spy()`, `trace()`, the live
 * callbacks a snoop network registers). A record captures the strings it needs
 * when it is written (signal and state names, a scribble's text, the queue
 * lengths), so reading it later gives the line as it was at that time.
 *
 * Everything here is only touched by the engine inside an
 * `if (chart.instrumented)` branch, so a chart with instrumentation off builds
 * no spy or trace string at all (the unit tests count calls of `spyFormat`).
 */
import { dateAt } from '../env/environment.ts';
import { signalRegistry } from './signals.ts';

export const SPY_RING_BUFFER_SIZE = 500;
export const TRC_RING_BUFFER_SIZE = 500;
export const RTC_RING_BUFFER_SIZE = 250;

/** One trace line before formatting (miros `TraceTuple`). */
export interface TraceRecord {
  readonly time: number;
  readonly startState: string;
  /** null for the line written by startAt (printed as `start_at`) */
  readonly signal: string | null;
  readonly endState: string;
}

/** What a spy record is; each kind is formatted by one `spyFormat` function. */
export const SpyKind = {
  /** `A:ss211` (a = signal, b = state) */
  signal: 0,
  /** `A:ss211:HOOK` (a = signal, b = state) */
  hook: 1,
  postFifo: 2,
  postLifo: 3,
  deferred: 4,
  recall: 5,
  /** x = queued, y = deferred */
  queueReflection: 6,
  /** a = signal, b = queue type */
  subscribe: 7,
  /** a = signal, x = priority */
  publish: 8,
  /** a = the line itself (scribble, START) */
  text: 9,
} as const;
export type SpyKind = (typeof SpyKind)[keyof typeof SpyKind];

/** Capacity a ring starts with; it doubles up to its maxlen when needed. */
const INITIAL_CAPACITY = 16;

/** Signal numbers at or above this are recorded without an interned line (the tables stay bounded). */
export const CACHED_SIGNALS = 1024;
/** Bound of the interned `signal:state` lines of the process; past it, records carry their strings. */
export const MAX_CALL_LINES = 1 << 20;

/**
 * The interned state-call records of the process: an id stands for (kind, signal
 * name, state name), and its miros line is built the first time a record with
 * that id is read. A chart has few (state, signal) pairs, so most spy records
 * are one integer.
 */
class CallLines {
  readonly #kind: SpyKind[] = [];
  readonly #signalName: string[] = [];
  readonly #stateName: string[] = [];
  /** @internal the lines made so far by id (read inline by `SpyLog.toArray`; undefined: not made yet) */
  readonly lines: (string | undefined)[] = [];
  /** records that could not be interned because the table was full */
  notInterned = 0;

  /** A new id for (kind, signal, state), or -1 when the table is full. */
  intern(kind: SpyKind, signalName: string, stateName: string): number {
    const id = this.#kind.length;
    if (id >= MAX_CALL_LINES) {
      this.notInterned++;
      return -1;
    }
    this.#kind.push(kind);
    this.#signalName.push(signalName);
    this.#stateName.push(stateName);
    this.lines.push(undefined);
    return id;
  }

  line(id: number): string {
    let line = this.lines[id];
    if (line === undefined) {
      const signalName = this.#signalName[id] as string;
      const stateName = this.#stateName[id] as string;
      line = this.#kind[id] === SpyKind.hook ? spyFormat.hook(signalName, stateName) : spyFormat.signal(signalName, stateName);
      line.charCodeAt(0); // flattens the rope in place once: the line is read and copied many times
      this.lines[id] = line;
    }
    return line;
  }
}

export const callLines = new CallLines();

/**
 * What the spy knows about one state function: its name, and the interned ids of
 * its call and hook records by signal number. Reading `fn.name` costs a native
 * accessor call, so the engine reads it once per function and keeps it here; a
 * record keeps an id made with the name the state had when it was written, so a
 * record read later still shows that name. `state()` renames a function and drops
 * its StateLines (a name changed by other means is not seen once the state has run
 * instrumented).
 */
export class StateLines {
  /** @internal the interned call-record id by signal number (read inline by the engine's spy) */
  readonly callIds: number[] = [];
  readonly #hookIds: number[] = [];
  /** set when `state()` renamed the function: a chart's StateTable then looks it up again */
  stale = false;
  /** @internal the trace bodies of lines from this state, by trace signal + 1 (see `traceBody`) */
  readonly bodies: (TraceBody[] | undefined)[] = [];
  constructor(readonly name: string) {}

  /** The id of this state's `kind` record for `signal`, or -1 (not interned: record the strings). */
  id(kind: SpyKind, signalName: string, signal: number): number {
    const table = kind === SpyKind.hook ? this.#hookIds : this.callIds;
    const id = table[signal];
    if (id !== undefined) return id;
    if (signal >= CACHED_SIGNALS || signal < 0) return -1;
    const made = callLines.intern(kind, signalName, this.name);
    if (made >= 0) table[signal] = made;
    return made;
  }
}

export const STATE_LINES = Symbol('miros.stateLines');
export type WithLines = { [STATE_LINES]?: StateLines; readonly name: string };

/** The StateLines of a state function (made on first use; a frozen function gets a fresh one each time). */
export function stateLines(fn: { readonly name: string }): StateLines {
  const holder = fn as WithLines;
  const lines = holder[STATE_LINES];
  if (lines !== undefined) return lines;
  const made = new StateLines(fn.name);
  if (Object.isExtensible(fn)) holder[STATE_LINES] = made; // a plain assignment keeps the function's fast properties
  return made;
}

/** The name of a state function, as the spy and trace show it. */
export function stateName(fn: { readonly name: string }): string {
  return ((fn as WithLines)[STATE_LINES] ?? stateLines(fn)).name;
}

/** Forgets what the spy knows about `fn` (after `state()` renamed it). */
export function forgetStateLines(fn: object): void {
  const holder = fn as WithLines;
  const lines = holder[STATE_LINES];
  if (lines !== undefined) {
    lines.stale = true;
    holder[STATE_LINES] = undefined;
  }
}

/** States a chart keeps in its StateTable; a chart with more looks the others up on the function. */
export const STATE_TABLE_SIZE = 64;

/**
 * The StateLines of the states one chart has run, found by a linear scan of their
 * functions. A state function's own properties are often in dictionary mode (a
 * function whose `name` was redefined, by `state()` or by a bundler, has slow
 * properties), so reading its StateLines costs a hash lookup on every spied call;
 * a chart has few states, and comparing a handful of references is cheaper.
 */
export class StateTable {
  /** @internal the state functions, scanned inline by the engine's spy */
  readonly fns: unknown[] = [];
  /** @internal their StateLines, at the same index */
  readonly lines: StateLines[] = [];
  /** lookups of states past the table's bound (found on the function instead) */
  notEntered = 0;

  /** The StateLines of `fn`, entered in the table (or replaced when stale). */
  enter(fn: { readonly name: string }): StateLines {
    const lines = stateLines(fn);
    const k = this.fns.indexOf(fn);
    if (k >= 0) this.lines[k] = lines;
    else if (this.fns.length < STATE_TABLE_SIZE) {
      this.fns.push(fn);
      this.lines.push(lines);
    } else {
      this.notEntered++;
    }
    return lines;
  }
}

/**
 * A bounded ring of spy records (Python `deque(maxlen=n)` of spy lines: a push
 * to a full ring drops the oldest record). A record is an integer: an interned
 * state-call id (>= 0), or -1 - kind for the other kinds, whose strings and
 * numbers sit in side arrays. A push allocates nothing; `at`/`toArray` format on demand.
 */
export class SpyLog {
  /**
   * @internal the record ring (read and written inline by the engine's spy: see `pushCall`);
   * an array of small integers, not an Int32Array: V8 stores into it with fewer checks
   */
  ids: number[] = new Array<number>(INITIAL_CAPACITY).fill(0);
  #a: string[] = new Array<string>(INITIAL_CAPACITY).fill('');
  #b: string[] = new Array<string>(INITIAL_CAPACITY).fill('');
  #x: number[] = new Array<number>(INITIAL_CAPACITY).fill(0);
  #y: number[] = new Array<number>(INITIAL_CAPACITY).fill(0);
  /** @internal index of the oldest record in `ids` */
  head = 0;
  /** @internal records held */
  size = 0;
  /** records pushed since the last clear that are not interned calls (an extend copies their side arrays) */
  #special = 0;

  constructor(readonly maxlen: number) {}

  get length(): number {
    return this.size;
  }

  /** The array index for a new record at the back (drops the front one when full). */
  #slot(): number {
    const cap = this.ids.length;
    if (this.size === this.maxlen) {
      const i = this.head;
      this.head = i + 1 === cap ? 0 : i + 1;
      return i;
    }
    if (this.size === cap) this.#grow();
    let i = this.head + this.size;
    if (i >= this.ids.length) i -= this.ids.length;
    this.size++;
    return i;
  }

  #grow(): void {
    const old = this.ids.length;
    const cap = Math.min(old * 2, this.maxlen);
    const id = new Array<number>(cap).fill(0);
    const a = new Array<string>(cap).fill('');
    const b = new Array<string>(cap).fill('');
    const x = new Array<number>(cap).fill(0);
    const y = new Array<number>(cap).fill(0);
    for (let n = 0; n < this.size; n++) {
      const i = (this.head + n) % old;
      id[n] = this.ids[i] as number;
      a[n] = this.#a[i] as string;
      b[n] = this.#b[i] as string;
      x[n] = this.#x[i] as number;
      y[n] = this.#y[i] as number;
    }
    this.ids = id;
    this.#a = a;
    this.#b = b;
    this.#x = x;
    this.#y = y;
    this.head = 0;
  }

  /** Appends an interned state-call record (an id from `StateLines.id`). */
  pushCall(id: number): void {
    const cap = this.ids.length;
    const size = this.size;
    if (size < cap) {
      // the common case, inline: room without growing or dropping
      let i = this.head + size;
      if (i >= cap) i -= cap;
      this.ids[i] = id;
      this.size = size + 1;
      return;
    }
    const i = this.#slot(); // before reading #id: a grow replaces it
    this.ids[i] = id;
  }

  /** Appends a record with two strings (signal/state, signal/queue type; b unused: ''). */
  push(kind: SpyKind, a: string, b: string): void {
    this.#special++;
    const i = this.#slot();
    this.ids[i] = -1 - kind;
    this.#a[i] = a;
    this.#b[i] = b;
  }

  /** Appends a record with a string and/or two numbers (reflection, publish). */
  pushNumbers(kind: SpyKind, a: string, x: number, y: number): void {
    this.#special++;
    const i = this.#slot();
    this.ids[i] = -1 - kind;
    this.#a[i] = a;
    this.#x[i] = x;
    this.#y[i] = y;
  }

  /** Appends a record that is already its text (scribble, START). */
  pushText(text: string): void {
    this.push(SpyKind.text, text, '');
  }

  /** Appends every record of `other`, oldest first (miros `full.spy.extend(rtc.spy)`). */
  extend(other: SpyLog): void {
    const n = other.size;
    const oCap = other.ids.length;
    let j = other.head;
    const cap = this.ids.length;
    if (other.#special === 0 && this.size + n <= cap && n <= oCap - j) {
      // the commonest case: interned calls only, one run in other's ring, room here
      let i = this.head + this.size;
      if (i >= cap) i -= cap;
      const ids = this.ids;
      const from = other.ids;
      // a loop, not set(subarray()): a subarray is an allocation, and a step has few records
      for (let k = 0; k < n; k++) {
        ids[i] = from[j + k] as number;
        if (++i === cap) i = 0;
      }
      this.size += n;
      return;
    }
    if (other.#special !== 0) this.#special++; // copies special records
    if (this.size + n <= cap) {
      // the common case: room for all of them without growing or dropping
      const ids = this.ids;
      let i = this.head + this.size;
      if (i >= cap) i -= cap;
      for (let k = 0; k < n; k++) {
        const id = other.ids[j] as number;
        ids[i] = id;
        if (id < 0) {
          this.#a[i] = other.#a[j] as string;
          this.#b[i] = other.#b[j] as string;
          this.#x[i] = other.#x[j] as number;
          this.#y[i] = other.#y[j] as number;
        }
        if (++i === cap) i = 0;
        if (++j === oCap) j = 0;
      }
      this.size += n;
      return;
    }
    for (let k = 0; k < n; k++) {
      const id = other.ids[j] as number;
      if (id >= 0) this.pushCall(id);
      else {
        const i = this.#slot();
        this.ids[i] = id;
        this.#a[i] = other.#a[j] as string;
        this.#b[i] = other.#b[j] as string;
        this.#x[i] = other.#x[j] as number;
        this.#y[i] = other.#y[j] as number;
      }
      if (++j === oCap) j = 0;
    }
  }

  clear(): void {
    this.head = 0;
    this.size = 0;
    this.#special = 0;
  }

  /** The i-th line from the front (negative: from the back), formatted now; undefined out of range. */
  at(i: number): string | undefined {
    if (i < 0) i += this.size;
    if (i < 0 || i >= this.size) return undefined;
    let j = this.head + i;
    if (j >= this.ids.length) j -= this.ids.length;
    return this.#format(j);
  }

  /** Every line, oldest first, formatted now. */
  toArray(): string[] {
    const out = new Array<string>(this.size);
    const cap = this.ids.length;
    let j = this.head;
    const ids = this.ids;
    const made = callLines.lines;
    for (let n = 0; n < this.size; n++) {
      const id = ids[j] as number;
      let line = id >= 0 ? made[id] : undefined;
      if (line === undefined) line = this.#format(j);
      out[n] = line;
      if (++j === cap) j = 0;
    }
    return out;
  }

  [Symbol.iterator](): Iterator<string> {
    return this.toArray()[Symbol.iterator]();
  }

  #format(j: number): string {
    const id = this.ids[j] as number;
    if (id >= 0) return callLines.line(id);
    const a = this.#a[j] as string;
    switch (-1 - id) {
      case SpyKind.signal:
        return spyFormat.signal(a, this.#b[j] as string);
      case SpyKind.hook:
        return spyFormat.hook(a, this.#b[j] as string);
      case SpyKind.postFifo:
        return spyFormat.postFifo(a);
      case SpyKind.postLifo:
        return spyFormat.postLifo(a);
      case SpyKind.deferred:
        return spyFormat.deferred(a);
      case SpyKind.recall:
        return spyFormat.recall(a);
      case SpyKind.queueReflection:
        return spyFormat.queueReflection(this.#x[j] as number, this.#y[j] as number);
      case SpyKind.subscribe:
        return spyFormat.subscribe(a, this.#b[j] as string);
      case SpyKind.publish:
        return spyFormat.publish(a, this.#x[j] as number);
      default:
        return a;
    }
  }
}

/** Bits of a spy tuple's flags. */
export const TupleFlag = { hook: 1, start: 2, internal: 4, recall: 8 } as const;

/**
 * miros `rtc.tuples`, a `deque(maxlen)` with one tuple per state call of a
 * run-to-completion step, reduced to what the trace reads: how many tuples
 * there are, and the tuples that are not internal (user signals, recalls, the
 * START tuple) with their place in the sequence. An internal tuple is a count.
 * The window of the deque (its last `maxlen` tuples) is kept exactly.
 */
export class SpyTuples {
  #flags = new Uint8Array(INITIAL_CAPACITY);
  #signal = new Int32Array(INITIAL_CAPACITY);
  #time = new Float64Array(INITIAL_CAPACITY);
  #seq = new Float64Array(INITIAL_CAPACITY);
  #head = 0;
  #size = 0;
  /** @internal tuples pushed since the last clear (internal ones included; the engine counts an internal tuple inline) */
  count = 0;
  /** set by `findTraceSignal`: a signal number, 0 when there is none (the trace shows `e->()`) */
  traceSignal = 0;
  traceTime = Number.NaN;

  constructor(readonly maxlen: number) {}

  /** Tuples in the deque (at most maxlen). */
  get length(): number {
    return Math.min(this.count, this.maxlen);
  }

  /** An internal tuple (ENTRY/EXIT/INIT/SEARCH_FOR_SUPER/EMPTY): only counted. */
  pushInternal(): void {
    this.count++;
  }

  /** `signal`: its number (0 for START); `time`: microseconds since the epoch, NaN when not taken (internal signals, a call that passed the event on). */
  push(flags: number, signal: number, time: number): void {
    const seq = this.count++;
    if ((flags & (TupleFlag.internal | TupleFlag.start)) === TupleFlag.internal) return;
    const cap = this.#flags.length;
    let i: number;
    if (this.#size === this.maxlen) {
      i = this.#head;
      this.#head = i + 1 === cap ? 0 : i + 1;
    } else {
      if (this.#size === cap) this.#grow();
      i = this.#head + this.#size;
      if (i >= this.#flags.length) i -= this.#flags.length;
      this.#size++;
    }
    this.#flags[i] = flags;
    this.#signal[i] = signal;
    this.#time[i] = time;
    this.#seq[i] = seq;
  }

  #grow(): void {
    const old = this.#flags.length;
    const cap = Math.min(old * 2, this.maxlen);
    const flags = new Uint8Array(cap);
    const signal = new Int32Array(cap);
    const time = new Float64Array(cap);
    const seq = new Float64Array(cap);
    for (let n = 0; n < this.#size; n++) {
      const i = (this.#head + n) % old;
      flags[n] = this.#flags[i] as number;
      signal[n] = this.#signal[i] as number;
      time[n] = this.#time[i] as number;
      seq[n] = this.#seq[i] as number;
    }
    this.#flags = flags;
    this.#signal = signal;
    this.#time = time;
    this.#seq = seq;
    this.#head = 0;
  }

  clear(): void {
    this.#head = 0;
    this.#size = 0;
    this.count = 0;
  }

  /** The first tuple of the deque is the START tuple (miros `rtc.tuples[0].start`). */
  firstIsStart(): boolean {
    if (this.count === 0) return false;
    const first = Math.max(0, this.count - this.maxlen);
    const cap = this.#flags.length;
    for (let n = 0; n < this.#size; n++) {
      const i = (this.#head + n) % cap;
      if (this.#seq[i] === first) return ((this.#flags[i] as number) & TupleFlag.start) !== 0;
      if ((this.#seq[i] as number) > first) break;
    }
    return false; // an internal tuple
  }

  /**
   * miros `is_signal_hooked`: the last user-signal tuple up to the first hook
   * (recalls and internal tuples skipped). Sets traceSignal/traceTime ('' and
   * NaN when there is none); returns true if that tuple is a hook.
   */
  findTraceSignal(): boolean {
    let signal = 0;
    let time = Number.NaN;
    let hooked = false;
    const first = this.count - this.maxlen;
    const cap = this.#flags.length;
    let i = this.#head;
    for (let n = 0; n < this.#size; n++) {
      const flags = this.#flags[i] as number;
      if ((flags & (TupleFlag.internal | TupleFlag.recall)) === 0 && (this.#seq[i] as number) >= first) {
        signal = this.#signal[i] as number;
        time = this.#time[i] as number;
        if ((flags & TupleFlag.hook) !== 0) {
          hooked = true;
          break;
        }
      }
      if (++i === cap) i = 0;
    }
    this.traceSignal = signal;
    this.traceTime = time;
    return hooked;
  }
}

/** The per-chart buffers (miros `rtc.spy`, `rtc.tuples`, `full.spy`, `full.trace`). */
export class Instrumentation {
  readonly rtcSpy = new SpyLog(RTC_RING_BUFFER_SIZE);
  readonly rtcTuples = new SpyTuples(RTC_RING_BUFFER_SIZE);
  readonly fullSpy = new SpyLog(SPY_RING_BUFFER_SIZE);
  readonly fullTrace = new TraceLog(TRC_RING_BUFFER_SIZE);
  readonly states = new StateTable();

  /** full.spy.extend(rtc.spy) */
  flushRtcSpy(): void {
    this.fullSpy.extend(this.rtcSpy);
  }
}

/** Every spy line the engine writes is built by one of these (and nowhere else). */
export const spyFormat = {
  /** before a state call: `A:ss211` */
  signal(signalName: string, stateName: string): string {
    return `${signalName}:${stateName}`;
  },
  /** after a state handled a user signal: `A:ss211:HOOK` */
  hook(signalName: string, stateName: string): string {
    return `${signalName}:${stateName}:HOOK`;
  },
  postFifo(signalName: string): string {
    return `POST_FIFO:${signalName}`;
  },
  postLifo(signalName: string): string {
    return `POST_LIFO:${signalName}`;
  },
  deferred(signalName: string): string {
    return `POST_DEFERRED:${signalName}`;
  },
  recall(signalName: string): string {
    return `RECALL:${signalName}`;
  },
  queueReflection(queued: number, deferred: number): string {
    return `<- Queued:(${queued}) Deferred:(${deferred})`;
  },
  subscribe(signalName: string, queueType: string): string {
    return `SUBSCRIBING TO:(${signalName}, TYPE:${queueType})`;
  },
  publish(signalName: string, priority: number): string {
    return `PUBLISH:(${signalName}, PRIORITY:${priority})`;
  },
};

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** '000'…'999': the milli- and microseconds of a timestamp as table reads. */
const THREE_DIGITS: readonly string[] = Array.from({ length: 1000 }, (_, n) => pad(n, 3));

/** The last second formatted by `formatTimestamp` (trace lines come in bursts within a second). */
let lastSecond = Number.NaN;
let lastSecondText = '';
/** The last millisecond formatted by `timestampHead`, and its `[%Y-%m-%d %H:%M:%S.mmm` text. */
let lastMilli = Number.NaN;
let lastMilliHead = '';

/** `%Y-%m-%d %H:%M:%S.` of the second holding `micros`, in local time. */
function secondText(second: number): string {
  if (second !== lastSecond) {
    // local time of a whole second (time-zone offsets are whole seconds)
    const d = dateAt(second * 1000);
    // one join: a flat string (a rope of pieces would be walked again in every line that holds it)
    lastSecondText = [d.getFullYear(), '-', pad(d.getMonth() + 1), '-', pad(d.getDate()), ' ', pad(d.getHours()), ':', pad(d.getMinutes()), ':', pad(d.getSeconds()), '.'].join('');
    lastSecond = second;
  }
  return lastSecondText;
}

/** `[%Y-%m-%d %H:%M:%S.mmm` of the millisecond `milli` (made once per distinct millisecond). */
function timestampHead(milli: number): string {
  if (milli !== lastMilli) {
    const second = Math.floor(milli / 1000);
    const head = '[' + secondText(second) + (THREE_DIGITS[milli - second * 1000] as string);
    head.charCodeAt(0); // flat once: copied into every line of this millisecond
    lastMilliHead = head;
    lastMilli = milli;
  }
  return lastMilliHead;
}

/** `%Y-%m-%d %H:%M:%S.%f` in local time, like Python's `datetime.now().strftime`. */
export function formatTimestamp(micros: number): string {
  const second = Math.floor(micros / 1_000_000);
  const text = secondText(second);
  const us = micros - second * 1_000_000;
  const ms = Math.floor(us / 1000);
  return text + (THREE_DIGITS[ms] as string) + (THREE_DIGITS[us - ms * 1000] as string);
}

/**
 * One trace line without trailing newline:
 * `[2026-11-25 09:03:11.123456] [name] e->A() ss211->ss211` (name unset → `None`,
 * startAt's line → `e->start_at()`).
 */
export function formatTraceLine(record: TraceRecord, chartName: string | undefined | null): string {
  const name = chartName ?? 'None';
  const signal = record.signal ?? 'start_at';
  return `[${formatTimestamp(record.time)}] [${name}] e->${signal}() ${record.startState}->${record.endState}`;
}

const LINE_BREAK = /[\r\n]/;

/** The signal of a trace record whose line reads `e->start_at()` (startAt's line). */
export const TRACE_START_AT = -1;
/** The signal of a trace record without a user signal (`e->()`). */
export const TRACE_NO_SIGNAL = 0;

/** The part of a trace line after `e->`: `A() from->to`, made once per (from, signal, to). */
interface TraceBody {
  readonly end: StateLines;
  readonly text: string;
  /** the body as `stripped()` leaves it (trailing whitespace trimmed); undefined when a name holds a line break */
  readonly stripped: string | undefined;
  /** the chart name `tail` was made for */
  tailName: string;
  /** `] [name] e->` + text + `\n` for the chart named `tailName` (a trace line is its timestamp, then this) */
  tail: string;
}

/** The end of a trace line after its timestamp, `] [name] e->A() from->to\n`, made once per chart name (one flat string). */
function traceTail(body: TraceBody, name: string): string {
  if (body.tailName !== name || body.tail === '') {
    const tail = `] [${name}] e->${body.text}\n`;
    tail.charCodeAt(0); // flat once: it is copied into every trace() text that holds it
    body.tail = tail;
    body.tailName = name;
  }
  return body.tail;
}

/** Bound of the trace bodies kept by the process (a chart takes the same transitions over and over); past it, bodies are made per read. */
export const MAX_TRACE_BODIES = 1 << 16;
let traceBodies = 0;
/** trace bodies made but not kept because the bound was reached */
export const traceBodyStats = { notCached: 0 };

function signalText(signal: number): string {
  return signal === TRACE_START_AT ? 'start_at' : signal === TRACE_NO_SIGNAL ? '' : signalRegistry.nameFor(signal);
}

function makeBody(start: StateLines, signal: number, end: StateLines): TraceBody {
  const sig = signalText(signal);
  const text = `${sig}() ${start.name}->${end.name}`;
  text.charCodeAt(0); // flat once: it is copied into every trace() text that holds it
  const broken = LINE_BREAK.test(sig) || LINE_BREAK.test(start.name) || LINE_BREAK.test(end.name);
  return { end, text, stripped: broken ? undefined : text.trimEnd(), tailName: '', tail: '' };
}

/** The body of the trace line (start, signal, end), from `start`'s kept bodies. */
function traceBody(start: StateLines, signal: number, end: StateLines): TraceBody {
  const k = signal + 1;
  const list = k < CACHED_SIGNALS ? start.bodies[k] : undefined;
  if (list !== undefined) {
    for (let i = 0; i < list.length; i++) if ((list[i] as TraceBody).end === end) return list[i] as TraceBody;
  }
  const body = makeBody(start, signal, end);
  if (k < CACHED_SIGNALS && traceBodies < MAX_TRACE_BODIES) {
    traceBodies++;
    if (list === undefined) start.bodies[k] = [body];
    else list.push(body);
  } else {
    traceBodyStats.notCached++;
  }
  return body;
}

/** The StateLines of the pseudo-state top (startAt's trace line starts there). */
export const TOP_LINES = new StateLines('top');

/**
 * miros `full.trace`, a `deque(maxlen)` of trace tuples, as a ring of numbers and
 * StateLines (which hold the state names as they were when the record was written):
 * a push allocates nothing; the text is made when read.
 */
export class TraceLog {
  #time = new Float64Array(INITIAL_CAPACITY);
  #signal = new Int32Array(INITIAL_CAPACITY);
  #start: StateLines[] = new Array<StateLines>(INITIAL_CAPACITY).fill(TOP_LINES);
  #end: StateLines[] = new Array<StateLines>(INITIAL_CAPACITY).fill(TOP_LINES);
  #head = 0;
  #size = 0;
  /** records pushed since the chart was made (the live trace tells a new last record by it) */
  pushed = 0;

  constructor(readonly maxlen: number) {}

  get length(): number {
    return this.#size;
  }

  /** `signal`: a signal number, TRACE_START_AT or TRACE_NO_SIGNAL. */
  push(time: number, start: StateLines, signal: number, end: StateLines): void {
    if (this.maxlen <= 0) return;
    this.pushed++;
    let cap = this.#time.length;
    let i: number;
    if (this.#size === this.maxlen) {
      i = this.#head;
      this.#head = i + 1 === cap ? 0 : i + 1;
    } else {
      if (this.#size === cap) {
        this.#grow();
        cap = this.#time.length;
      }
      i = this.#head + this.#size;
      if (i >= cap) i -= cap;
      this.#size++;
    }
    this.#time[i] = time;
    this.#signal[i] = signal;
    this.#start[i] = start;
    this.#end[i] = end;
  }

  #grow(): void {
    const old = this.#time.length;
    const cap = Math.min(old * 2, this.maxlen);
    const time = new Float64Array(cap);
    const signal = new Int32Array(cap);
    const start = new Array<StateLines>(cap).fill(TOP_LINES);
    const end = new Array<StateLines>(cap).fill(TOP_LINES);
    for (let n = 0; n < this.#size; n++) {
      const i = (this.#head + n) % old;
      time[n] = this.#time[i] as number;
      signal[n] = this.#signal[i] as number;
      start[n] = this.#start[i] as StateLines;
      end[n] = this.#end[i] as StateLines;
    }
    this.#time = time;
    this.#signal = signal;
    this.#start = start;
    this.#end = end;
    this.#head = 0;
  }

  clear(): void {
    // let go of the StateLines held (only the slots in use hold any)
    const cap = this.#time.length;
    let j = this.#head;
    for (let k = this.#size; k > 0; k--) {
      this.#start[j] = TOP_LINES;
      this.#end[j] = TOP_LINES;
      if (++j === cap) j = 0;
    }
    this.#head = 0;
    this.#size = 0;
  }

  #index(i: number): number {
    let j = this.#head + i;
    if (j >= this.#time.length) j -= this.#time.length;
    return j;
  }

  /** The i-th record from the front (negative: from the back) as an object made now; undefined out of range. */
  at(i: number): TraceRecord | undefined {
    if (i < 0) i += this.#size;
    if (i < 0 || i >= this.#size) return undefined;
    const j = this.#index(i);
    const signal = this.#signal[j] as number;
    return {
      time: this.#time[j] as number,
      startState: (this.#start[j] as StateLines).name,
      signal: signal === TRACE_START_AT ? null : signalText(signal),
      endState: (this.#end[j] as StateLines).name,
    };
  }

  toArray(): TraceRecord[] {
    const out: TraceRecord[] = [];
    for (let i = 0; i < this.#size; i++) out.push(this.at(i) as TraceRecord);
    return out;
  }

  [Symbol.iterator](): Iterator<TraceRecord> {
    return this.toArray()[Symbol.iterator]();
  }

  /** The i-th line (negative: from the back), formatted now, without newline; undefined out of range. */
  line(i: number, chartName: string | undefined | null): string | undefined {
    if (i < 0) i += this.#size;
    if (i < 0 || i >= this.#size) return undefined;
    const j = this.#index(i);
    const time = this.#time[j] as number;
    const milli = Math.floor(time / 1000);
    const body = traceBody(this.#start[j] as StateLines, this.#signal[j] as number, this.#end[j] as StateLines);
    return [timestampHead(milli), THREE_DIGITS[time - milli * 1000] as string, '] [', chartName ?? 'None', '] e->', body.text].join('');
  }

  /** miros `trace()`: `"\n"`, then every line, each ending with `"\n"`; one flat string. */
  text(chartName: string | undefined | null): string {
    const n = this.#size;
    const name = chartName ?? 'None';
    // concatenated, not joined: a line is three flat pieces (its millisecond, its microseconds,
    // its cached tail), and a rope flattened once below costs less than Array#join of the pieces
    let text = '\n';
    const cap = this.#time.length;
    let j = this.#head;
    for (let k = 0; k < n; k++) {
      const time = this.#time[j] as number;
      const milli = Math.floor(time / 1000);
      const body = traceBody(this.#start[j] as StateLines, this.#signal[j] as number, this.#end[j] as StateLines);
      text = text + (milli === lastMilli ? lastMilliHead : timestampHead(milli)) + (THREE_DIGITS[time - milli * 1000] as string) + traceTail(body, name);
      if (++j === cap) j = 0;
    }
    text.charCodeAt(0); // flattened here, once
    return text;
  }

  /** The lines of `stripped(trace())` made from the records; undefined when a name holds a line break. */
  strippedLines(chartName: string | undefined | null): string[] | undefined {
    const name = chartName ?? 'None';
    if (LINE_BREAK.test(name)) return undefined;
    const head = `[${name}] e->`;
    const n = this.#size;
    const out = new Array<string>(n);
    const cap = this.#time.length;
    let j = this.#head;
    for (let k = 0; k < n; k++) {
      const stripped = traceBody(this.#start[j] as StateLines, this.#signal[j] as number, this.#end[j] as StateLines).stripped;
      if (stripped === undefined) return undefined;
      out[k] = head + stripped;
      if (++j === cap) j = 0;
    }
    return out;
  }
}

/**
 * `stripped(trace)` computed from the trace records without formatting and then
 * removing their timestamps: `[name] e->SIG() from->to` per record, the same lines
 * as `stripped(chart.trace())`. Undefined when a name holds a line break (then
 * only the text shows where the lines split: use `stripped(chart.trace())`).
 */
export function strippedTraceLines(records: TraceLog | Iterable<TraceRecord>, chartName: string | undefined | null): string[] | undefined {
  if (records instanceof TraceLog) return records.strippedLines(chartName);
  const name = chartName ?? 'None';
  if (LINE_BREAK.test(name)) return undefined;
  const out: string[] = [];
  for (const record of records) {
    const signal = record.signal ?? 'start_at';
    if (LINE_BREAK.test(signal) || LINE_BREAK.test(record.startState) || LINE_BREAK.test(record.endState)) return undefined;
    // stripped() trims each line: only its end can hold whitespace here (it starts with '[')
    out.push(`[${name}] e->${signal}() ${record.startState}->${record.endState}`.trimEnd());
  }
  return out;
}

/** Alias of `formatTraceLine`. */
export const traceLineFormat = formatTraceLine;

const TIMESTAMP = /^[ ]*\[[0-9-:. ]+\] (.+)$/;

/** One line with its leading `[timestamp] ` removed (miros's `stripped` regex); other text unchanged. */
export function strippedLine(line: string): string {
  const m = TIMESTAMP.exec(line);
  return m ? (m[1] as string) : line;
}

/**
 * miros's `stripped`: every non-empty line of `text`, trimmed, with its
 * timestamp removed. Unlike the Python context manager it always returns a
 * list (use `strippedLine` for a single line).
 */
export function stripped(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split(/\r\n|\n|\r/)) {
    const line = raw.trim();
    if (line.length !== 0) out.push(strippedLine(line));
  }
  return out;
}
