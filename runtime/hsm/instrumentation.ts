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
import { Deque } from './deque.ts';

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
  readonly #line: (string | undefined)[] = [];
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
    this.#line.push(undefined);
    return id;
  }

  line(id: number): string {
    let line = this.#line[id];
    if (line === undefined) {
      const signalName = this.#signalName[id] as string;
      const stateName = this.#stateName[id] as string;
      line = this.#kind[id] === SpyKind.hook ? spyFormat.hook(signalName, stateName) : spyFormat.signal(signalName, stateName);
      line.charCodeAt(0); // flattens the rope in place once: the line is read and copied many times
      this.#line[id] = line;
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
  /** @internal the record ring (read and written inline by the engine's spy: see `pushCall`) */
  ids = new Int32Array(INITIAL_CAPACITY);
  #a: string[] = new Array<string>(INITIAL_CAPACITY).fill('');
  #b: string[] = new Array<string>(INITIAL_CAPACITY).fill('');
  #x: number[] = new Array<number>(INITIAL_CAPACITY).fill(0);
  #y: number[] = new Array<number>(INITIAL_CAPACITY).fill(0);
  /** @internal index of the oldest record in `ids` */
  head = 0;
  /** @internal records held */
  size = 0;

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
    const id = new Int32Array(cap);
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
    const i = this.#slot();
    this.ids[i] = -1 - kind;
    this.#a[i] = a;
    this.#b[i] = b;
  }

  /** Appends a record with a string and/or two numbers (reflection, publish). */
  pushNumbers(kind: SpyKind, a: string, x: number, y: number): void {
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
    for (let n = 0; n < this.size; n++) {
      const id = ids[j] as number;
      out[n] = id >= 0 ? callLines.line(id) : this.#format(j);
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
  #signal: string[] = new Array<string>(INITIAL_CAPACITY).fill('');
  #time = new Float64Array(INITIAL_CAPACITY);
  #seq = new Float64Array(INITIAL_CAPACITY);
  #head = 0;
  #size = 0;
  /** @internal tuples pushed since the last clear (internal ones included; the engine counts an internal tuple inline) */
  count = 0;
  /** set by `findTraceSignal` */
  traceSignal = '';
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

  /** `time`: microseconds since the epoch, NaN when not taken (internal signals, a call that passed the event on). */
  push(flags: number, signal: string, time: number): void {
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
    const signal = new Array<string>(cap).fill('');
    const time = new Float64Array(cap);
    const seq = new Float64Array(cap);
    for (let n = 0; n < this.#size; n++) {
      const i = (this.#head + n) % old;
      flags[n] = this.#flags[i] as number;
      signal[n] = this.#signal[i] as string;
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
    let signal = '';
    let time = Number.NaN;
    let hooked = false;
    const first = this.count - this.maxlen;
    const cap = this.#flags.length;
    let i = this.#head;
    for (let n = 0; n < this.#size; n++) {
      const flags = this.#flags[i] as number;
      if ((flags & (TupleFlag.internal | TupleFlag.recall)) === 0 && (this.#seq[i] as number) >= first) {
        signal = this.#signal[i] as string;
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
  readonly fullTrace = new Deque<TraceRecord>(TRC_RING_BUFFER_SIZE);
  readonly states = new StateTable();
  readonly traceTails = new TraceTails();

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

/** '000'…'999': the microseconds of a timestamp as two table reads. */
const THREE_DIGITS: readonly string[] = Array.from({ length: 1000 }, (_, n) => pad(n, 3));

/** The last second formatted by `formatTimestamp` (trace lines come in bursts within a second). */
let lastSecond = Number.NaN;
let lastSecondText = '';

/** `%Y-%m-%d %H:%M:%S.%f` in local time, like Python's `datetime.now().strftime`. */
export function formatTimestamp(micros: number): string {
  const second = Math.floor(micros / 1_000_000);
  if (second !== lastSecond) {
    // local time of a whole second (time-zone offsets are whole seconds)
    const d = dateAt(second * 1000);
    // one join: a flat string (a rope of pieces would be walked again in every line that holds it)
    lastSecondText = [d.getFullYear(), '-', pad(d.getMonth() + 1), '-', pad(d.getDate()), ' ', pad(d.getHours()), ':', pad(d.getMinutes()), ':', pad(d.getSeconds()), '.'].join('');
    lastSecond = second;
  }
  const us = micros - second * 1_000_000;
  const ms = Math.floor(us / 1000);
  return lastSecondText + (THREE_DIGITS[ms] as string) + (THREE_DIGITS[us - ms * 1000] as string);
}

/**
 * One trace line without trailing newline:
 * `[2026-11-25 09:03:11.123456] [name] e->A() ss211->ss211` (name unset → `None`,
 * startAt's line → `e->start_at()`).
 */
export function formatTraceLine(record: TraceRecord, chartName: string | undefined | null): string {
  return `[${formatTimestamp(record.time)}${traceLineTail(record, chartName)}`;
}

/** `] [name] e->A() ss211->ss211`: what follows a trace line's timestamp. */
function traceLineTail(record: TraceRecord, chartName: string | undefined | null): string {
  const name = chartName ?? 'None';
  const signal = record.signal ?? 'start_at';
  // one join: a flat string, kept and copied into many lines (a rope would be walked each time)
  return ['] [', name, '] e->', signal, '() ', record.startState, '->', record.endState].join('');
}

const LINE_BREAK = /[\r\n]/;

/** Tails a chart keeps (a chart has few transitions); past it, lines are built whole and counted. */
export const TRACE_TAILS_MAX = 1024;

/**
 * The tails of one chart's trace lines (`] [name] e->A() from->to`), made once per
 * (from, signal, to) and reused by every read of `trace()` (a chart takes the same
 * transitions over and over). Emptied when the chart's name changes.
 */
export class TraceTails {
  #name: string | undefined | null = undefined;
  /** from state → signal → to state → the tail and the stripped line */
  #tails = new Map<string, Map<string | null, Map<string, TraceText>>>();
  #size = 0;
  /** tails built but not kept because the table was full */
  notCached = 0;

  /** One trace line, formatted now. */
  line(record: TraceRecord, chartName: string | undefined | null): string {
    return `[${formatTimestamp(record.time)}${this.#text(record, chartName).tail}`;
  }

  /** The line of `stripped(trace())` for `record`; undefined when a name holds a line break. */
  strippedLine(record: TraceRecord, chartName: string | undefined | null): string | undefined {
    return this.#text(record, chartName).stripped;
  }

  #text(record: TraceRecord, chartName: string | undefined | null): TraceText {
    if (chartName !== this.#name) {
      this.#tails = new Map();
      this.#size = 0;
      this.#name = chartName;
    }
    let bySignal = this.#tails.get(record.startState);
    let byEnd = bySignal?.get(record.signal);
    let text = byEnd?.get(record.endState);
    if (text === undefined) {
      const tail = traceLineTail(record, chartName);
      text = { tail, stripped: strippedOf(record, chartName) };
      if (this.#size < TRACE_TAILS_MAX) {
        if (bySignal === undefined) this.#tails.set(record.startState, (bySignal = new Map()));
        if (byEnd === undefined) bySignal.set(record.signal, (byEnd = new Map()));
        byEnd.set(record.endState, text);
        this.#size++;
      } else {
        this.notCached++;
      }
    }
    return text;
  }
}

interface TraceText {
  readonly tail: string;
  readonly stripped: string | undefined;
}

/** `[name] e->SIG() from->to` trimmed (the line of `stripped(trace())`); undefined when a name holds a line break. */
function strippedOf(record: TraceRecord, chartName: string | undefined | null): string | undefined {
  const name = chartName ?? 'None';
  const signal = record.signal ?? 'start_at';
  if (LINE_BREAK.test(name) || LINE_BREAK.test(signal) || LINE_BREAK.test(record.startState) || LINE_BREAK.test(record.endState)) {
    return undefined;
  }
  // stripped() trims each line: only its end can hold whitespace here (it starts with '[')
  return `[${name}] e->${signal}() ${record.startState}->${record.endState}`.trimEnd();
}

/**
 * `stripped(trace)` computed from the trace records without formatting and then
 * removing their timestamps: `[name] e->SIG() from->to` per record, the same lines
 * as `stripped(chart.trace())`. Undefined when a name holds a line break (then
 * only the text shows where the lines split: use `stripped(chart.trace())`).
 */
export function strippedTraceLines(
  records: Iterable<TraceRecord>,
  chartName: string | undefined | null,
  tails: TraceTails = new TraceTails(),
): string[] | undefined {
  const out: string[] = [];
  if (records instanceof Deque) {
    // by index: no copy of the records for an iterator
    for (let i = 0; i < records.length; i++) {
      const line = tails.strippedLine(records.at(i) as TraceRecord, chartName);
      if (line === undefined) return undefined;
      out.push(line);
    }
  } else {
    for (const record of records) {
      const line = tails.strippedLine(record, chartName);
      if (line === undefined) return undefined;
      out.push(line);
    }
  }
  if (out.length === 0 && LINE_BREAK.test(chartName ?? 'None')) return undefined;
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
