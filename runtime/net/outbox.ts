// A bounded, ordered outbox in front of one broker's confirm channel.
//
// Messages wait here while the broker is away and leave in order when it is back.
// A message stays owned by the outbox until the broker confirms it: when the channel
// dies, the unconfirmed ones go back to the front (in order) and are sent again on the
// next channel, so nothing is lost (receivers drop the rare duplicate by sequence number).
// Beyond `bound` waiting messages, push() throws OutboxOverflowError: nothing vanishes silently.
// settled() waits for the last confirm (an event, no polling); the only timers are its
// timeout and the nack retry below, which backs off while nacks come in a row (tests drive
// both with vitest's fake timers).
import type { ConfirmChannel, Options } from 'amqplib';
import { OutboxOverflowError } from './errors.ts';
import { retryDelayMs } from './retry.ts';

export interface OutboxMessage {
  exchange: string;
  routingKey: string;
  content: Buffer;
  options: Options.Publish;
  /** Called once, when the broker has confirmed this message. */
  onConfirmed?: () => void;
  /** Called once, if the outbox is closed with this message still unconfirmed. */
  onAbandoned?: () => void;
}

export interface OutboxStats {
  queued: number;
  inFlight: number;
  sent: number;
  confirmed: number;
  resent: number;
  nacked: number;
}

export class Outbox {
  private pending: OutboxMessage[] = [];
  /** Sent, not yet confirmed, in publish order (a Set: a confirm takes its message out in O(1)). */
  private inFlight = new Set<OutboxMessage>();
  private channel: ConfirmChannel | undefined;
  private generation = 0;
  private waitingForDrain = false;
  /** Nacks since the last confirm: how long the next resend waits. */
  private nackStreak = 0;
  private readonly stats = { sent: 0, confirmed: 0, resent: 0, nacked: 0 };
  private readonly known = new WeakSet<ConfirmChannel>();
  private readonly closed = new WeakSet<ConfirmChannel>();
  /** settled() calls waiting for the outbox to be empty. */
  private readonly emptyWaiters = new Set<() => void>();

  constructor(
    readonly broker: string,
    readonly bound: number,
  ) {}

  get size(): number {
    return this.pending.length + this.inFlight.size;
  }

  snapshot(): OutboxStats {
    return { queued: this.pending.length, inFlight: this.inFlight.size, ...this.stats };
  }

  push(message: OutboxMessage): void {
    // The bound counts what waits for the broker; what is on the wire is the channel's business.
    if (this.pending.length >= this.bound) throw new OutboxOverflowError(this.broker, this.bound);
    this.pending.push(message);
    this.flush();
  }

  /** A new channel is up: resend what was unconfirmed, then the rest, in order. */
  attach(channel: ConfirmChannel): void {
    this.detach();
    this.channel = channel;
    if (!this.known.has(channel)) {
      this.known.add(channel);
      channel.on('drain', () => {
        if (this.channel !== channel) return;
        this.waitingForDrain = false;
        this.flush();
      });
      // Prepended: amqplib's own 'close' listener (registered when the channel was made) fails
      // every unconfirmed publish with "channel closed"; hearing the close first makes those
      // callbacks stale (detach bumps the generation), so a lost channel is not counted as a nack.
      channel.prependOnceListener('close', () => {
        this.closed.add(channel);
        if (this.channel === channel) this.detach();
      });
    }
    this.flush();
  }

  /** The channel is gone: whatever it did not confirm goes back to the front. */
  detach(): void {
    this.generation++;
    this.channel = undefined;
    this.waitingForDrain = false;
    if (this.inFlight.size > 0) {
      this.stats.resent += this.inFlight.size;
      this.pending = [...this.inFlight, ...this.pending];
      this.inFlight = new Set();
    }
  }

  /**
   * Resolves true once the outbox is empty (everything pushed so far confirmed), false if
   * it is not empty after timeoutMs. Woken by the last confirm, not by polling.
   */
  settled(timeoutMs: number): Promise<boolean> {
    if (this.size === 0 || timeoutMs <= 0) return Promise.resolve(this.size === 0);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.emptyWaiters.delete(done);
        resolve(this.size === 0);
      };
      const timer = setTimeout(done, timeoutMs);
      this.emptyWaiters.add(done);
    });
  }

  /** The link is closing for good: tell the owners of what was never confirmed (it stays counted here). */
  abandon(): void {
    for (const message of [...this.inFlight, ...this.pending]) message.onAbandoned?.();
  }

  private flush(): void {
    const channel = this.channel;
    const generation = this.generation;
    while (channel && !this.waitingForDrain && this.pending.length > 0) {
      const message = this.pending.shift()!;
      this.inFlight.add(message);
      this.stats.sent++;
      let hasRoom: boolean;
      try {
        hasRoom = channel.publish(message.exchange, message.routingKey, message.content, message.options, (err) =>
          this.onConfirm(generation, message, err),
        );
      } catch {
        // The channel closed under us; the close handler will detach() and requeue.
        return;
      }
      if (!hasRoom) this.waitingForDrain = true;
    }
  }

  private onConfirm(generation: number, message: OutboxMessage, err: unknown): void {
    if (generation !== this.generation) return; // a callback of a channel already detached
    if (!err) {
      this.nackStreak = 0;
      this.inFlight.delete(message);
      this.stats.confirmed++;
      message.onConfirmed?.();
      if (this.size === 0) for (const wake of [...this.emptyWaiters]) wake();
      return;
    }
    // A nack (a closing channel's "channel closed" callbacks are stale by now, see attach):
    // take everything unconfirmed back, in order, and send it again on this channel if it is
    // still open. Nacks in a row (a quorum queue without a leader nacks each round) wait
    // longer each time, by the one retry policy (~100 ms doubling, at most ~2 s): every round
    // resends all that was in flight, so a fixed short wait made a storm of duplicates.
    const channel = this.channel;
    this.stats.nacked++;
    this.detach();
    if (channel) {
      setTimeout(() => {
        if (this.channel === undefined && !this.closed.has(channel)) this.attach(channel);
      }, retryDelayMs(++this.nackStreak)).unref();
    }
  }
}
