// A bounded, ordered outbox in front of one broker's confirm channel.
//
// Messages wait here while the broker is away and leave in order when it is back.
// A message stays owned by the outbox until the broker confirms it. What is resent is only
// what was not confirmed, message by message (never the whole window for one nack):
// - a nacked message is taken back alone (the confirms of the others still count) and sent
//   again after the nack back-off, first. Until something sent after the nack is confirmed,
//   the outbox probes: one message at a time on the wire (a canary). A nack of a fanned-out
//   publish means some queue did not take it (a quorum queue without a leader) while every
//   other queue did, so each resend lands again in all the others: a canary keeps one
//   unavailable queue from costing a round of copies of everything waiting, in every queue.
//   With `renewChannel` (the link), nothing more goes out on the channel that nacked (on
//   RabbitMQ 3.10 a quorum queue that refused a channel's registration refuses it for good):
//   the back-off ends by asking for a fresh channel, and replace() retires the old one, whose
//   events still on the wire keep counting; it is closed once none of them waits;
// - when the channel dies, or the link replaces a channel that stopped confirming, what it
//   left unconfirmed goes back to the front, in order, and out on the next channel, which
//   probes too (a canary first): a channel not yet known to be accepting gets one event, not
//   the window. settle(ms) keeps a fresh channel quiet for a while first (the link's fail-over
//   waits out the quorum queues' elections).
// Receivers drop the rare duplicate by sequence number.
// Confirms that pause (SLOW_CONFIRM_MS without an answer while the oldest event waits: a
// quorum queue electing a leader, whose end nacks what is on the wire) make the outbox probe
// too: the oldest event is the canary and nothing more goes out until it is answered.
// At most `maxInFlight` messages are on the wire unconfirmed (the rest wait here): that caps
// what one fault can make us resend. Beyond `bound` waiting messages, push() throws
// OutboxOverflowError (counted in `overflowed`): nothing vanishes silently. hold()/release()
// stop and restart sending (RabbitMQ's flow control: the connection is blocked).
// settled() waits for the last confirm (an event, no polling); the only timers are its
// timeout and the nack back-off (tests drive both with vitest's fake timers).
import { realEnvironment, type Environment, type TimerHandle } from '../env/environment.ts';
import type { ConfirmChannel, Options } from 'amqplib';
import { OutboxOverflowError } from './errors.ts';
import { RETRY } from './retry.ts';
import { regressed } from './regressions.ts';

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

/** Why a message went out again: the broker nacked it, its channel died, or its channel stopped confirming. */
export type ResendReason = 'nack' | 'lost' | 'stalled';

export interface OutboxStats {
  queued: number;
  inFlight: number;
  /** The cap on `inFlight`. */
  maxInFlight: number;
  sent: number;
  confirmed: number;
  /** Messages sent again (each time counts), by reason in `resentBy`. */
  resent: number;
  resentBy: Record<ResendReason, number>;
  nacked: number;
  /** Messages refused because `queued` had reached the bound (OutboxOverflowError). */
  overflowed: number;
  /** Sending is held (the broker's flow control). */
  held: boolean;
}

export interface OutboxOptions {
  /** At most this many messages unconfirmed on the wire (default DEFAULT_MAX_IN_FLIGHT). */
  maxInFlight?: number;
  /** Told each nack round in a row (1, 2, 3, … until a canary is confirmed), as it is scheduled. */
  onNackRound?: (streak: number) => void;
  /**
   * Asked at the end of a nack back-off for a fresh channel (given with replace()) in place of
   * the one that nacked; the resend waits for it. Without it, the resend goes on the same channel.
   */
  renewChannel?: () => void;
  /** The clock, timers and randomness (default: the real ones). */
  environment?: Environment;
}

/** The default cap on unconfirmed messages per link. */
export const DEFAULT_MAX_IN_FLIGHT = 256; // config.ts DEFAULTS.maxInFlight

/**
 * The nack back-off: 4 s doubling per nack round in a row, at most 16 s, ±20 %. A nack of a
 * fanned-out event means one queue refused it while the others took it, so each round lands
 * in all of those again: the first waits out a quorum queue's leader election (on RabbitMQ
 * 3.10, about 2 s after a member's death before a fresh channel is taken), not a quarter of it.
 * Under load (50 instances on 2 cores) the elections of one member's queues spread over 7 s
 * (contested: terms up to 7), and a round that meets one still electing costs a copy in every
 * other queue again: 4 s, not 2, keeps that to one round where 2 s took two.
 */
export const NACK_RETRY = { initialDelayMs: 4000, maxDelayMs: 16_000 } as const;

/**
 * No answer (confirm or nack) for this long while the oldest event on the wire waits: the
 * confirms have paused, and nothing more goes out until that event is answered (it is the
 * canary). Answers that keep coming, however slow each one, never close the gate.
 */
export const SLOW_CONFIRM_MS = 1000;

/** The wait before nack round `streak` (1 = the first): a quorum queue's leader election takes seconds. */
export function nackDelayMs(streak: number, random: () => number = realEnvironment.random): number {
  const n = Math.max(1, Math.floor(streak));
  const base = Math.min(NACK_RETRY.maxDelayMs / (1 + RETRY.jitter), NACK_RETRY.initialDelayMs * 2 ** Math.min(n - 1, 30));
  return Math.round(base + (Math.min(1, Math.max(0, random())) * 2 - 1) * base * RETRY.jitter);
}

export class Outbox {
  /** Waiting to go, resends first. */
  private pending: OutboxMessage[] = [];
  /** Sent, not yet confirmed, in publish order, with the channel each went out on (a confirm takes its message out in O(1)). */
  private inFlight = new Map<OutboxMessage, ConfirmChannel>();
  /** Channels replace()d while events on them waited for an answer: their answers count; closed once none waits. */
  private readonly retiring = new Set<ConfirmChannel>();
  /** The current channel nacked and a fresh one will be asked for (renewChannel): nothing more goes out on it. */
  private nacking: ConfirmChannel | undefined;
  /** Nacked, waiting for the back-off to go again. */
  private nackedWaiting: OutboxMessage[] = [];
  private nackRetry: TimerHandle | undefined;
  private readonly env: Environment;
  /** Push order of every message held (pending, in flight, nacked): taken-back messages go back in this order. */
  private readonly order = new Map<OutboxMessage, number>();
  private pushed = 0;
  /** Messages taken back and not sent again yet, with why (counted as resent when they go). */
  private readonly takenBack = new Map<OutboxMessage, ResendReason>();
  private channel: ConfirmChannel | undefined;
  private generation = 0;
  private waitingForDrain = false;
  private held = false;
  /** settle(): nothing goes out until this timer fires. */
  private settling: TimerHandle | undefined;
  /** Nack rounds since the last confirm: how long the next resend waits. */
  private nackStreak = 0;
  /** After a nack, until a message sent since is confirmed: one message at a time (the canary). */
  private probing = false;
  private canary: OutboxMessage | undefined;
  /** When each message last went on the wire (weak: gone with the message). */
  private readonly sentAt = new WeakMap<OutboxMessage, number>();
  /** When the broker last answered (a confirm or a nack). */
  private lastAnswerAt = 0;
  private readonly stats = { sent: 0, confirmed: 0, resent: 0, nacked: 0, overflowed: 0 };
  private readonly resentBy: Record<ResendReason, number> = { nack: 0, lost: 0, stalled: 0 };
  private readonly known = new WeakSet<ConfirmChannel>();
  /** settled() calls waiting for the outbox to be empty. */
  private readonly emptyWaiters = new Set<() => void>();
  readonly maxInFlight: number;
  private readonly onNackRound: ((streak: number) => void) | undefined;
  private readonly renewChannel: (() => void) | undefined;

  constructor(
    readonly broker: string,
    readonly bound: number,
    options: OutboxOptions = {},
  ) {
    this.maxInFlight = Math.max(1, Math.floor(options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT));
    this.onNackRound = options.onNackRound;
    this.renewChannel = options.renewChannel;
    this.env = options.environment ?? realEnvironment;
  }

  get size(): number {
    return this.pending.length + this.inFlight.size + this.nackedWaiting.length;
  }

  snapshot(): OutboxStats {
    return {
      queued: this.pending.length + this.nackedWaiting.length,
      inFlight: this.inFlight.size,
      maxInFlight: this.maxInFlight,
      ...this.stats,
      resentBy: { ...this.resentBy },
      held: this.held,
    };
  }

  push(message: OutboxMessage): void {
    // The bound counts what waits for the broker; what is on the wire is capped by maxInFlight.
    if (this.pending.length >= this.bound) {
      this.stats.overflowed++;
      throw new OutboxOverflowError(this.broker, this.bound);
    }
    this.order.set(message, ++this.pushed);
    this.pending.push(message);
    this.flush();
  }

  /** A new channel is up: resend what was unconfirmed, then the rest, in order. */
  attach(channel: ConfirmChannel): void {
    this.detach();
    this.listen(channel);
    this.channel = channel;
    this.flush();
  }

  /**
   * A fresh channel in place of the current one (which nacked), on the same connection: what is
   * on the wire on the old one stays there and its answers count (taking it back would send it
   * again to every queue that has it); the old channel is closed once none of them waits.
   */
  replace(fresh: ConfirmChannel): void {
    const old = this.channel;
    this.listen(fresh);
    this.channel = fresh;
    this.waitingForDrain = false;
    this.nacking = undefined;
    if (old !== undefined && old !== fresh) {
      this.retiring.add(old);
      this.closeIfIdle(old);
    }
    this.flush();
  }

  /** A fresh channel is wanted: the current one nacked and its back-off is over (renewChannel was asked). */
  get awaitsFreshChannel(): boolean {
    return this.nacking !== undefined && this.nacking === this.channel && this.nackRetry === undefined;
  }

  private listen(channel: ConfirmChannel): void {
    if (this.known.has(channel)) return;
    this.known.add(channel);
    channel.on('drain', () => {
      if (this.channel !== channel) return;
      this.waitingForDrain = false;
      this.flush();
    });
    // Prepended: amqplib's own 'close' listener (registered when the channel was made) fails
    // every unconfirmed publish with "channel closed"; hearing the close first makes those
    // callbacks stale (detach bumps the generation; a retired channel's messages are taken
    // back), so a lost channel is not counted as a nack.
    channel.prependOnceListener('close', () => {
      if (this.channel === channel) this.detach();
      else if (this.retiring.delete(channel)) this.takeBack(channel, 'lost');
    });
  }

  /** A retired channel that closed with events unanswered: they go back to the front, in push order. */
  private takeBack(channel: ConfirmChannel, reason: ResendReason): void {
    const back: OutboxMessage[] = [];
    for (const [message, on] of this.inFlight) {
      if (on !== channel) continue;
      this.inFlight.delete(message);
      this.takenBack.set(message, reason);
      if (message === this.canary) this.canary = undefined;
      back.push(message);
    }
    this.requeue(back);
    this.flush();
  }

  /** Closes a retired channel once nothing sent on it waits for an answer. */
  private closeIfIdle(channel: ConfirmChannel): void {
    for (const on of this.inFlight.values()) if (on === channel) return;
    this.retiring.delete(channel);
    this.close(channel);
  }

  private close(channel: ConfirmChannel): void {
    try {
      void channel.close().catch(() => undefined);
    } catch {
      // already closed
    }
  }

  /**
   * The channel is gone (or being replaced, `reason` 'stalled'): whatever it did not confirm
   * goes back to the front, in push order, to go out on the next channel.
   */
  detach(reason: ResendReason = 'lost'): void {
    const had = this.channel !== undefined;
    this.generation++;
    this.channel = undefined;
    this.waitingForDrain = false;
    this.env.clearTimeout(this.nackRetry);
    this.nackRetry = undefined;
    this.canary = undefined;
    // the next channel is not known to be accepting (a fail-over's may register with queues
    // whose leaders are being elected, and nack): it starts with one event, the canary
    if (had) this.probing = true;
    this.nacking = undefined;
    for (const message of this.inFlight.keys()) this.takenBack.set(message, reason);
    this.requeue([...this.nackedWaiting, ...this.inFlight.keys()]);
    this.nackedWaiting = [];
    this.inFlight = new Map();
    for (const channel of this.retiring) this.close(channel);
    this.retiring.clear();
  }

  /** Stops sending (the connection is blocked by the broker): messages wait here, up to the bound. */
  hold(): void {
    this.held = true;
  }

  /** Sends again after hold(). */
  release(): void {
    if (!this.held) return;
    this.held = false;
    this.flush();
  }

  /**
   * Sends nothing for `ms` (from now; a later call replaces it), then goes on, a canary first
   * when probing. Independent of hold(): flow control and a settle end on their own.
   */
  settle(ms: number): void {
    this.env.clearTimeout(this.settling);
    this.settling = undefined;
    if (!(ms > 0)) return void this.flush();
    this.settling = this.env.setTimeout(() => {
      this.settling = undefined;
      this.flush();
    }, ms);
    this.settling.unref();
  }

  /** settle() is under way. */
  get settlingNow(): boolean {
    return this.settling !== undefined;
  }

  /**
   * Resolves true once the outbox is empty (everything pushed so far confirmed), false if
   * it is not empty after timeoutMs. Woken by the last confirm, not by polling.
   */
  settled(timeoutMs: number): Promise<boolean> {
    if (this.size === 0 || timeoutMs <= 0) return Promise.resolve(this.size === 0);
    return new Promise((resolve) => {
      const done = () => {
        this.env.clearTimeout(timer);
        this.emptyWaiters.delete(done);
        resolve(this.size === 0);
      };
      const timer = this.env.setTimeout(done, timeoutMs);
      this.emptyWaiters.add(done);
    });
  }

  /** The link is closing for good: tell the owners of what was never confirmed (it stays counted here). */
  abandon(): void {
    this.env.clearTimeout(this.nackRetry);
    this.nackRetry = undefined;
    this.env.clearTimeout(this.settling);
    this.settling = undefined;
    for (const message of [...this.inFlight.keys(), ...this.nackedWaiting, ...this.pending]) message.onAbandoned?.();
  }

  /** Puts taken-back messages in front of the waiting ones, in push order. */
  private requeue(messages: OutboxMessage[]): void {
    if (messages.length === 0) return;
    const rank = (m: OutboxMessage) => this.order.get(m) ?? 0;
    this.pending = [...messages.sort((a, b) => rank(a) - rank(b)), ...this.pending];
  }

  private flush(): void {
    const channel = this.channel;
    while (
      channel &&
      channel !== this.nacking &&
      !this.waitingForDrain &&
      !this.held &&
      this.settling === undefined &&
      this.nackRetry === undefined &&
      this.inFlight.size < this.maxInFlight &&
      this.canary === undefined &&
      this.pending.length > 0
    ) {
      if (this.confirmsPaused()) return;
      const message = this.pending.shift()!;
      if (this.probing) this.canary = message;
      if (!this.publish(channel, message)) return;
    }
  }

  /**
   * The oldest message on the wire has waited SLOW_CONFIRM_MS with no answer from the broker
   * since it went: it becomes the canary (probing) and nothing more goes out until it is answered.
   */
  private confirmsPaused(): boolean {
    if (this.probing) return false; // one canary at a time already
    const oldest = this.inFlight.keys().next();
    if (oldest.done) return false;
    const since = Math.max(this.sentAt.get(oldest.value) ?? 0, this.lastAnswerAt);
    if (this.env.now() - since < SLOW_CONFIRM_MS) return false;
    this.probing = true;
    this.canary = oldest.value;
    return true;
  }

  /** Puts one message on the wire; false if the channel closed under us (its close handler requeues). */
  private publish(channel: ConfirmChannel, message: OutboxMessage): boolean {
    const generation = this.generation;
    this.inFlight.set(message, channel);
    this.sentAt.set(message, this.env.now());
    this.stats.sent++;
    const reason = this.takenBack.get(message);
    if (reason !== undefined) {
      this.takenBack.delete(message);
      this.stats.resent++;
      this.resentBy[reason]++;
    }
    let hasRoom: boolean;
    try {
      hasRoom = channel.publish(message.exchange, message.routingKey, message.content, message.options, (err) =>
        this.onConfirm(generation, channel, message, err),
      );
    } catch {
      // The channel closed under us; the close handler will detach() and requeue.
      return false;
    }
    if (!hasRoom) this.waitingForDrain = true;
    return true;
  }

  private onConfirm(generation: number, channel: ConfirmChannel, message: OutboxMessage, err: unknown): void {
    // a callback of a channel already detached (a closing channel's "channel closed" ones included, see
    // listen), or of a message taken back from it and on the wire again elsewhere
    if (generation !== this.generation || this.inFlight.get(message) !== channel) return;
    this.inFlight.delete(message);
    this.lastAnswerAt = this.env.now();
    if (this.retiring.has(channel)) this.closeIfIdle(channel);
    const wasCanary = message === this.canary;
    if (wasCanary) this.canary = undefined;
    if (!err) {
      if (wasCanary) {
        // the broker takes what we send again: back to full speed
        this.probing = false;
        this.nackStreak = 0;
      }
      this.order.delete(message);
      this.stats.confirmed++;
      message.onConfirmed?.();
      if (this.size === 0) for (const wake of [...this.emptyWaiters]) wake();
      else this.flush(); // room under the cap
      return;
    }
    // A nack: this message alone goes again, after a back-off that grows while nack rounds come
    // in a row (a quorum queue without a leader nacks each round; nackDelayMs). Sending waits
    // meanwhile, then probes with one message; confirms of the others count.
    this.stats.nacked++;
    this.probing = true;
    if (this.renewChannel !== undefined && channel === this.channel) this.nacking = channel;
    this.takenBack.set(message, 'nack');
    this.nackedWaiting.push(message);
    // the old behaviour (test-only switch): the whole window goes back, the confirms of the others are lost
    if (regressed(this.env, 'resend-whole-window')) for (const m of [...this.inFlight.keys()]) { this.inFlight.delete(m); this.takenBack.set(m, 'nack'); this.nackedWaiting.push(m); }
    if (this.nackRetry !== undefined) return;
    this.nackRetry = this.env.setTimeout(() => {
      this.nackRetry = undefined;
      this.requeue(this.nackedWaiting);
      this.nackedWaiting = [];
      // the resend waits for the fresh channel (replace()); a reconnect's attach() serves too
      if (this.awaitsFreshChannel) this.renewChannel?.();
      else this.flush();
    }, nackDelayMs(++this.nackStreak, this.env.random));
    this.nackRetry.unref();
    this.onNackRound?.(this.nackStreak);
  }
}
