/**
 * miros `ActiveObject` on Node's event loop (no threads).
 *
 * `startAt` runs the initial transition synchronously; after that the queue
 * is drained asynchronously in macrotasks (the environment's `setImmediate`) of at most
 * STEPS_PER_TURN run-to-completion steps, so I/O callbacks run between them and
 * a chart working through a burst does not pay a turn of the event loop per
 * event (miros runs each chart's loop in a thread: no interleaving of steps with
 * I/O is promised either way). Periodic posts are
 * timers; publish/subscribe goes through the process-wide `router`.
 * `stop()` clears every timer, pending immediate and subscription, so a
 * process with only stopped ActiveObjects can exit.
 */
import type { TimerHandle } from '../env/environment.ts';
import { Event } from './event.ts';
import type { ChartOptions, State } from './event-processor.ts';
import { HsmWithQueues } from './hsm-with-queues.ts';
import { SpyKind } from './instrumentation.ts';
import { router, type QueueType, type Subscriber } from './router.ts';
import { signalRegistry } from './signals.ts';
import { NAMESPACE_DNS, uuid5 } from './uuid5.ts';

/** miros limit on live timers per ActiveObject. */
export const MAX_POSTED_TIMERS = 500;
export const DEFAULT_PUBLISH_PRIORITY = 1000;
/** Run-to-completion steps one macrotask takes from the queue before it lets I/O in. */
export const STEPS_PER_TURN = 16;

export interface PostOptions {
  /** seconds between posts (like miros); without it the post is immediate */
  period?: number;
  /** number of posts, 0 = forever (default 0) */
  times?: number;
  /** wait one period before the first post (default true) */
  deferred?: boolean;
}

export interface ErrorContext {
  chart: string | undefined;
  event: Event | undefined;
  state: string;
}

export type ErrorHook = (error: unknown, context: ErrorContext) => void;

export interface ActiveObjectOptions extends ChartOptions {
  /** called when a state throws during an asynchronous RTC step (default: console.error) */
  onError?: ErrorHook;
}

export class ActiveObjectOutOfPostedEventResources extends Error {
  constructor(limit: number) {
    super(`more than ${limit} periodic events posted on one ActiveObject`);
    this.name = 'ActiveObjectOutOfPostedEventResources';
  }
}

interface PostedTimer {
  signalName: string;
  handle: TimerHandle | undefined;
}

function defaultOnError(error: unknown, ctx: ErrorContext): void {
  const what = ctx.event ? ctx.event.signalName : 'an event';
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  console.error(`[${ctx.chart ?? 'None'}] exception in state ${ctx.state} while handling ${what}: ${detail}`);
}

export class ActiveObject extends HsmWithQueues implements Subscriber {
  onError: ErrorHook;
  #started = false;
  #stopped = false;
  #immediate: TimerHandle | undefined;
  readonly #timers = new Map<string, PostedTimer>();
  /** True while #drain runs run-to-completion steps. */
  #stepping = false;
  /** Who waits in drained() (allocated on the first wait). */
  #idleWaiters: (() => void)[] | undefined;

  /** `new ActiveObject('name')` (miros style) or `new ActiveObject({ name, instrumented, maxlen, onError })`. */
  constructor(nameOrOptions: string | ActiveObjectOptions = {}) {
    const options = typeof nameOrOptions === 'string' ? { name: nameOrOptions } : nameOrOptions;
    super(options);
    this.onError = options.onError ?? defaultOnError;
  }

  /** True between startAt and stop. */
  get running(): boolean {
    return this.#started && !this.#stopped;
  }

  /**
   * Runs the initial transition now and starts draining the queue. Without a
   * name the chart is named like miros: the first 5 hex digits of
   * uuid5(NAMESPACE_DNS, <state name>).
   */
  override startAt(initialState: State): void {
    if (this.name === undefined) this.name = uuid5(NAMESPACE_DNS, initialState.name).slice(0, 5);
    this.#stopped = false;
    super.startAt(initialState);
    this.#started = true;
    this.#schedule();
  }

  /** Posts `e` at the back of the queue; with `period`, posts it periodically and returns the timer id. */
  override postFifo(e: Event, options?: PostOptions): string | undefined {
    if (options?.period !== undefined) return this.#postPeriodic(e, options, 'fifo');
    super.postFifo(e);
    this.#schedule();
    return undefined;
  }

  /** Posts `e` at the front of the queue; with `period`, posts it periodically and returns the timer id. */
  override postLifo(e: Event, options?: PostOptions): string | undefined {
    if (options?.period !== undefined) return this.#postPeriodic(e, options, 'lifo');
    super.postLifo(e);
    this.#schedule();
    return undefined;
  }

  /** Stops one periodic post. Returns false if the id is unknown (or already finished). */
  cancelEvent(id: string): boolean {
    const timer = this.#timers.get(id);
    if (!timer) return false;
    if (timer.handle !== undefined) this.env.clearInterval(timer.handle);
    this.#timers.delete(id);
    return true;
  }

  /** Stops every periodic post of a signal; returns how many were cancelled. */
  cancelEvents(signalOrEvent: string | Event): number {
    const name = typeof signalOrEvent === 'string' ? signalOrEvent : signalOrEvent.signalName;
    let n = 0;
    for (const [id, timer] of [...this.#timers]) {
      if (timer.signalName === name && this.cancelEvent(id)) n++;
    }
    return n;
  }

  /** Ids of the periodic posts still running. */
  postedEvents(): string[] {
    return [...this.#timers.keys()];
  }

  /** Publishes `e` to every subscriber in this process (priority 1 is the highest). */
  publish(e: Event, priority: number = DEFAULT_PUBLISH_PRIORITY): void {
    if (this.instrumented) this.instrumentation.rtcSpy.pushNumbers(SpyKind.publish, e.signalName, priority, 0);
    router.publish(e, priority);
  }

  /** Subscribes this chart to a signal published by any ActiveObject in this process. */
  subscribe(signalOrEvent: string | number | Event, queueType: QueueType = 'fifo'): void {
    const name =
      signalOrEvent instanceof Event
        ? signalOrEvent.signalName
        : typeof signalOrEvent === 'number'
          ? signalRegistry.nameFor(signalOrEvent)
          : (signalRegistry.append(signalOrEvent), signalOrEvent);
    if (queueType !== 'fifo' && queueType !== 'lifo') throw new TypeError(`queueType must be 'fifo' or 'lifo', got ${String(queueType)}`);
    router.subscribe(this, name, queueType);
    if (this.instrumented) this.instrumentation.rtcSpy.push(SpyKind.subscribe, name, queueType);
  }

  /** @internal router delivery: straight into the queue, no POST_* spy line (like miros's fabric). */
  receivePublished(e: Event, queueType: QueueType): void {
    if (queueType === 'lifo') this.queue.pushFront(e);
    else this.queue.pushBack(e);
    this.#schedule();
  }

  /** Like miros: undefined until a state ran instrumented. */
  override trace(): string | undefined {
    return this.spiedOn ? super.trace() : undefined;
  }

  /** Clears every timer, the pending drain step and every subscription; queued events stay queued. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#immediate !== undefined) this.env.clearImmediate(this.#immediate);
    this.#immediate = undefined;
    for (const id of [...this.#timers.keys()]) this.cancelEvent(id);
    router.unsubscribe(this);
    this.#wakeIdleWaiters();
  }

  /**
   * Resolves once the chart is idle: its queue is empty and no run-to-completion step is
   * running (at once if it is idle now). Also resolves when the chart is stopped (what is
   * still queued then stays queued). Periodic posts and events still to arrive are not
   * waited for: this is "the chart has worked through what it was given".
   */
  drained(): Promise<void> {
    if (this.#idle()) return Promise.resolve();
    return new Promise<void>((resolve) => (this.#idleWaiters ??= []).push(resolve));
  }

  #idle(): boolean {
    return this.#stopped || (!this.#stepping && this.queue.length === 0);
  }

  #wakeIdleWaiters(): void {
    const waiters = this.#idleWaiters;
    if (waiters === undefined || !this.#idle()) return;
    this.#idleWaiters = undefined;
    for (const resolve of waiters) resolve();
  }

  #postPeriodic(e: Event, options: PostOptions, how: QueueType): string {
    const period = options.period as number;
    if (!(Number.isFinite(period) && period >= 0)) throw new RangeError(`period must be a number of seconds >= 0, got ${period}`);
    const times = options.times ?? 0;
    if (!(Number.isInteger(times) && times >= 0)) throw new RangeError(`times must be an integer >= 0, got ${times}`);
    if (this.#timers.size >= MAX_POSTED_TIMERS) throw new ActiveObjectOutOfPostedEventResources(MAX_POSTED_TIMERS);

    const id = this.env.randomUUID();
    const timer: PostedTimer = { signalName: e.signalName, handle: undefined };
    this.#timers.set(id, timer);
    let count = 0;
    const post = (): void => {
      if (!this.#timers.has(id)) return;
      if (how === 'fifo') this.postFifo(e);
      else this.postLifo(e);
      count++;
      if (times !== 0 && count >= times) this.cancelEvent(id);
    };
    if (options.deferred === false) post();
    if (this.#timers.has(id)) timer.handle = this.env.setInterval(post, period * 1000);
    return id;
  }

  /**
   * Called after every run-to-completion step with the event it took from the queue
   * (also when a state threw). Subclasses learn here that an event has been handled:
   * the networked charts ack a received event to its broker only now.
   */
  protected onEventHandled(_e: Event): void {}

  #schedule(): void {
    if (!this.#started || this.#stopped || this.#immediate !== undefined || this.queue.length === 0) return;
    this.#immediate = this.env.setImmediate(this.#drain);
  }

  /** Up to STEPS_PER_TURN RTC steps, then the next macrotask; a throwing state is reported and the loop goes on. */
  readonly #drain = (): void => {
    this.#immediate = undefined;
    this.#stepping = true;
    try {
      for (let step = 0; step < STEPS_PER_TURN && !this.#stopped && this.queue.length > 0; step++) this.#step();
    } finally {
      this.#stepping = false;
    }
    this.#schedule();
    if (this.#idleWaiters !== undefined) this.#wakeIdleWaiters();
  };

  /** One RTC step. */
  #step(): void {
    const e = this.queue.at(0);
    try {
      this.nextRtc();
    } catch (error) {
      // the chart keeps its last settled state (dispatch only commits at the end)
      this.temp.fun = this.state.fun;
      try {
        this.onError(error, { chart: this.name, event: e, state: this.state.fun.name });
      } catch (hookError) {
        defaultOnError(hookError, { chart: this.name, event: e, state: this.state.fun.name });
      }
    }
    if (e !== undefined) this.onEventHandled(e);
  }
}
