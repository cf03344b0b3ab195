// Acks one channel's deliveries in delivery order, each only once it has been handled.
//
// A received mesh event is handled when the chart's run-to-completion step for it has
// ended; snoop lines, duplicates and drops are handled at once. An AMQP ack with
// `allUpTo` covers every earlier delivery of the channel, so only the longest handled
// prefix may be acked: one ack for its last delivery. It goes out on the next turn of the
// event loop once every delivery so far is handled (a chart that has caught up acks at
// once), or once `batch` more have been handled (a chart working through a burst, one
// step per turn, acks every `batch` events rather than every event: each ack is a frame
// and broker work). Unacked deliveries are bounded by the channel's prefetch, which is
// also what bounds the chart's queue of received events; `batch` stays well below it.
import { realEnvironment } from '../env/environment.ts';


export interface Delivery {
  fields: { deliveryTag: number };
}

interface Entry<M> {
  message: M;
  handled: boolean;
}

export class AckTracker<M extends Delivery> {
  private entries: Array<Entry<M>> = [];
  private head = 0;
  /** A deferred flush is pending: its handle (what `defer` returned) and its number (a cancelled one that runs anyway does nothing). */
  private scheduled = false;
  private deferred: unknown = undefined;
  private flushes = 0;
  private discarded = false;
  /** Deliveries recorded and not handled yet. */
  private unhandled = 0;
  /** Handled since the last flush was scheduled. */
  private handledSince = 0;

  /**
   * @param ack sends one ack covering `last` and every earlier delivery of the channel
   * @param defer runs the flush later (the environment's setImmediate; tests pass their own); returns a handle for `cancel`
   * @param batch while deliveries wait unhandled, ack after this many more are handled
   * @param cancel drops a deferred flush that flushIfCaughtUp made needless (the environment's clearImmediate)
   */
  constructor(
    private readonly ack: (last: M) => void,
    private readonly defer: (fn: () => void) => unknown = (fn) => realEnvironment.setImmediate(fn),
    private readonly batch = 64,
    private readonly cancel: (handle: unknown) => void = () => undefined,
  ) {}

  /** Deliveries not acked yet (handled or not). */
  get outstanding(): number {
    return this.entries.length - this.head;
  }

  /** Records a delivery (in delivery order); the returned function marks it handled (idempotent). */
  add(message: M): () => void {
    const entry: Entry<M> = { message, handled: false };
    this.entries.push(entry);
    this.unhandled++;
    return () => {
      if (entry.handled || this.discarded) return;
      entry.handled = true;
      this.unhandled--;
      if (this.unhandled === 0 || ++this.handledSince >= this.batch) this.schedule();
    };
  }

  /**
   * Acks now, not on the next turn, if every delivery so far is handled: the chart calls it
   * after a run-to-completion step, so a reply it published in the step and the ack of what
   * it answered leave in the same write of the connection, without another turn of the event
   * loop (a turn is an epoll wait and, on a busy machine, a wait for the CPU). A chart that
   * has caught up acks once either way; a burst still acks every `batch` events.
   */
  flushIfCaughtUp(): void {
    if (this.unhandled !== 0 || this.discarded) return;
    if (this.scheduled) {
      this.cancel(this.deferred);
      this.scheduled = false;
      this.deferred = undefined;
      this.flushes++;
    }
    this.flush();
  }

  /**
   * The channel is gone: its unacked deliveries go back to the broker by themselves, so
   * nothing more is acked on it (later `handled` calls are no-ops).
   */
  discard(): void {
    this.discarded = true;
    this.entries = [];
    this.head = 0;
    this.unhandled = 0;
  }

  private schedule(): void {
    if (this.scheduled || this.discarded) return;
    this.scheduled = true;
    this.handledSince = 0;
    const number = ++this.flushes;
    this.deferred = this.defer(() => {
      if (number !== this.flushes) return; // cancelled by flushIfCaughtUp
      this.scheduled = false;
      this.deferred = undefined;
      this.flush();
    });
  }

  private flush(): void {
    if (this.discarded) return;
    let last: M | undefined;
    while (this.head < this.entries.length && this.entries[this.head].handled) last = this.entries[this.head++].message;
    if (this.head === this.entries.length || this.head > 1024) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
    if (last !== undefined) this.ack(last);
  }
}
