/**
 * Spy and trace: miros's instrumentation buffers and their exact text formats.
 *
 * Everything here is only touched by the engine inside an
 * `if (chart.instrumented)` branch, so a chart with instrumentation off builds
 * no spy or trace string at all (the unit tests count calls of `spyFormat`).
 */
import { Deque } from './deque.ts';

export const SPY_RING_BUFFER_SIZE = 500;
export const TRC_RING_BUFFER_SIZE = 500;
export const RTC_RING_BUFFER_SIZE = 250;

/** One state call seen during a run-to-completion step (miros `SpyTuple`, only what the trace needs). */
export interface SpyTuple {
  readonly signal: string;
  readonly hook: boolean;
  readonly start: boolean;
  /** inner engine signal (ENTRY/EXIT/INIT/SEARCH_FOR_SUPER/EMPTY…); also true for the START tuple */
  readonly internal: boolean;
  readonly recall: boolean;
  /** microseconds since the epoch; only meaningful for non-internal tuples */
  readonly time: number;
}

/** One trace line before formatting (miros `TraceTuple`). */
export interface TraceRecord {
  readonly time: number;
  readonly startState: string;
  /** null for the line written by startAt (printed as `start_at`) */
  readonly signal: string | null;
  readonly endState: string;
}

export const START_TUPLE: SpyTuple = Object.freeze({
  signal: '',
  hook: false,
  start: true,
  internal: true,
  recall: false,
  time: 0,
});

/** The per-chart buffers (miros `rtc.spy`, `rtc.tuples`, `full.spy`, `full.trace`). */
export class Instrumentation {
  readonly rtcSpy = new Deque<string>(RTC_RING_BUFFER_SIZE);
  readonly rtcTuples = new Deque<SpyTuple>(RTC_RING_BUFFER_SIZE);
  readonly fullSpy = new Deque<string>(SPY_RING_BUFFER_SIZE);
  readonly fullTrace = new Deque<TraceRecord>(TRC_RING_BUFFER_SIZE);

  /** full.spy.extend(rtc.spy) */
  flushRtcSpy(): void {
    const n = this.rtcSpy.length;
    for (let i = 0; i < n; i++) this.fullSpy.pushBack(this.rtcSpy.at(i) as string);
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

/** Wall-clock time in microseconds since the epoch, from the monotonic high-resolution clock. */
export function nowMicros(): number {
  return Math.floor((performance.timeOrigin + performance.now()) * 1000);
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** `%Y-%m-%d %H:%M:%S.%f` in local time, like Python's `datetime.now().strftime`. */
export function formatTimestamp(micros: number): string {
  const ms = Math.floor(micros / 1000);
  const d = new Date(ms);
  const frac = micros - Math.floor(micros / 1_000_000) * 1_000_000;
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(frac, 6)}`
  );
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
