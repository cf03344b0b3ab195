/**
 * miros `HsmWithQueues`: a synchronous chart with an event queue and a defer
 * queue. `nextRtc()` runs one run-to-completion step; events posted during a
 * step are only processed by later steps.
 */
import { Deque } from './deque.ts';
import type { Event } from './event.ts';
import { HsmEventProcessor, type ChartOptions, type State } from './event-processor.ts';
import { SpyKind, TupleFlag, spyFormat } from './instrumentation.ts';

export const QUEUE_SIZE = 500;

export type LiveLineCallback = (line: string) => void;

export class HsmWithQueues extends HsmEventProcessor {
  readonly queue: Deque<Event>;
  readonly deferQueue: Deque<Event>;
  /** print every spy line after each RTC step / startAt (through the live spy callback) */
  liveSpy = false;
  /** print each new trace line after each RTC step / startAt (through the live trace callback) */
  liveTrace = false;
  #liveSpyCallback: LiveLineCallback = (line) => console.log(line);
  #liveTraceCallback: LiveLineCallback = (line) => console.log(line);
  /** the number of the trace record printed last (miros compares datetimes; the record's number is exact) */
  #lastLiveTrace = -1;

  constructor(options: ChartOptions = {}) {
    super(options);
    const maxlen = options.maxlen ?? QUEUE_SIZE;
    this.queue = new Deque<Event>(maxlen);
    this.deferQueue = new Deque<Event>(maxlen);
  }

  /** Receives each spy line (exactly the text of spy()) after each RTC step and after startAt. */
  registerLiveSpyCallback(fn: LiveLineCallback): void {
    this.#liveSpyCallback = fn;
  }

  /** Receives one formatted trace line, with timestamp, without trailing newline. */
  registerLiveTraceCallback(fn: LiveLineCallback): void {
    this.#liveTraceCallback = fn;
  }

  override startAt(initialState: State): void {
    super.startAt(initialState);
    this.afterRtc(); // start_at ends like an RTC step: reflection line, live trace, live spy
  }

  /** Dispatches the next queued event, if any; always appends the queue reflection line. */
  nextRtc(): boolean {
    if (this.instrumented) this.instrumentation.rtcSpy.clear();
    const e = this.queue.popFront();
    if (e !== undefined) this.dispatch(e);
    this.afterRtc();
    return e !== undefined;
  }

  /** Runs RTC steps until the queue is empty. */
  completeCircuit(): boolean {
    let taken = false;
    while (this.queue.length !== 0) taken = this.nextRtc();
    return taken;
  }

  /** The instrumentation that follows every RTC step: reflection line, live trace, live spy. */
  protected afterRtc(): void {
    if (!this.instrumented) return;
    const inst = this.instrumentation;
    const queued = this.queue.length;
    const deferred = this.deferQueue.length;
    inst.rtcSpy.pushNumbers(SpyKind.queueReflection, '', queued, deferred);
    inst.fullSpy.pushNumbers(SpyKind.queueReflection, '', queued, deferred);
    if (this.liveTrace) {
      const trace = inst.fullTrace;
      const last = trace.length === 0 ? -1 : trace.pushed - 1;
      if (last !== -1 && last !== this.#lastLiveTrace) this.#liveTraceCallback(trace.line(-1, this.name) as string);
      this.#lastLiveTrace = last;
    }
    if (this.liveSpy) this.#printRtcSpy();
  }

  #printRtcSpy(): void {
    const lines = this.instrumentation.rtcSpy.toArray();
    for (let i = 0; i < lines.length; i++) this.#liveSpyCallback(lines[i] as string);
  }

  postFifo(e: Event): void {
    this.queue.pushBack(e);
    if (this.instrumented) this.instrumentation.rtcSpy.push(SpyKind.postFifo, e.signalName, '');
  }

  postLifo(e: Event): void {
    this.queue.pushFront(e);
    if (this.instrumented) this.instrumentation.rtcSpy.push(SpyKind.postLifo, e.signalName, '');
  }

  defer(e: Event): void {
    this.deferQueue.pushBack(e);
    if (this.instrumented) this.instrumentation.rtcSpy.push(SpyKind.deferred, e.signalName, '');
  }

  /** Moves the oldest deferred event to the back of the queue (miros re-posts with postFifo, unlike QP). */
  recall(): Event | undefined {
    if (this.instrumented && this.deferQueue.length !== 0) {
      const peek = this.deferQueue.at(0) as Event;
      const inst = this.instrumentation;
      inst.rtcSpy.push(SpyKind.recall, peek.signalName, '');
      inst.rtcTuples.push(TupleFlag.recall, peek.signal, Number.NaN);
    }
    const e = this.deferQueue.popFront();
    if (e !== undefined) this.postFifo(e);
    return e;
  }

  /** `<- Queued:(n) Deferred:(m)` */
  queueReflection(): string {
    return spyFormat.queueReflection(this.queue.length, this.deferQueue.length);
  }

  override clearTrace(): void {
    super.clearTrace();
    this.#lastLiveTrace = -1;
  }
}
