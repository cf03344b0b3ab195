// What a node receives: one recovering connection to its OWN broker, one durable
// queue per enabled network bound to that network's exchange, consumed exclusively.
// Every message is decrypted and validated; a bad one is acked and dropped (never
// requeued: the reference's nack-requeue made a hot loop), counted, and reported once
// per sender and reason. Duplicates (an outbox resending after a reconnect or a nack)
// are dropped by the per-sender sequence number (seen-window.ts: a late event is kept).
import type { Channel, ConsumeMessage, RecoveringChannelModel } from 'amqplib';
import { openRecovering } from './connection.ts';
import { decodeEnvelope, type Envelope } from './envelope.ts';
import { EnvelopeError, BrokerClosedError } from './errors.ts';
import type { TokenCipher } from './fernet.ts';
import { SeenWindow } from './seen-window.ts';
import { EXCHANGES, MESSAGE_TTL_MS, QUEUE_EXPIRES_MS, SENDER_HEADER, queueName, type NetworkName } from './topology.ts';

export interface Subscription {
  network: NetworkName;
  bindingKey: string;
  /** A Fernet, or the network's KeyRing (key-ring.ts: swappable while consuming). */
  fernet: TokenCipher;
  deliver: (envelope: Envelope) => void;
  /**
   * Messages whose sender header names this node are acked without decrypting (the mesh:
   * a node's own events come back from its own broker and are never for it). The header
   * is not authenticated, but a spoofed one only hides a message claiming to be ours.
   */
  skipSender?: string;
}

export interface NetworkCounters {
  received: number;
  delivered: number;
  duplicates: number;
  dropped: number;
  droppedBy: Record<string, number>;
  /** Our own messages, skipped (see Subscription.skipSender). */
  own: number;
}

export interface ReceiverOptions {
  url: string;
  label: string;
  chartName: string;
  heartbeat: number;
  maxBodyBytes?: number;
  subscriptions: Subscription[];
  /** Events waiting in the chart's queue: above BACKLOG_HIGH, acks wait and the broker holds the rest. */
  backlog: () => number;
  /** Called once per (sender, reason) with a one-line explanation of a dropped message. */
  onDrop: (message: string) => void;
  onProblem?: (err: Error) => void;
}

/** Unacked deliveries per channel: how much the broker hands us before waiting for acks. */
export const PREFETCH = 500;
/** Flow control: stop acking while the chart has more than this queued, resume below BACKLOG_LOW. */
export const BACKLOG_HIGH = 1000;
export const BACKLOG_LOW = 250;

const newCounters = (): NetworkCounters => ({ received: 0, delivered: 0, duplicates: 0, dropped: 0, droppedBy: {}, own: 0 });

export class Receiver {
  readonly counters: Record<NetworkName, NetworkCounters> = { mesh: newCounters(), trace: newCounters(), spy: newCounters() };
  private connection: RecoveringChannelModel | undefined;
  private readonly seen = new Map<string, SeenWindow>();
  private readonly reported = new Set<string>();
  private firstSetup = true;
  private closing = false;
  /** Messages delivered to the chart but not acked yet (flow control), per channel. */
  private readonly held = new Map<Channel, ConsumeMessage>();
  private releaseTimer: NodeJS.Timeout | undefined;
  private releaseSoon: NodeJS.Immediate | undefined;

  constructor(private readonly options: ReceiverOptions) {}

  /** Connects and consumes; rejects if the first connection fails within timeoutMs. */
  async open(timeoutMs: number): Promise<void> {
    const connection = await openRecovering(this.options.url, this.options.heartbeat, (model) => this.setup(model));
    this.connection = connection;
    let lastError: Error | undefined;
    const onFailed = (err: Error) => {
      lastError = err;
      this.options.onProblem?.(err);
    };
    connection.on('connect-failed', onFailed);
    connection.on('disconnect', (err: Error) => this.closing || this.options.onProblem?.(err));
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        connection.waitForConnect(),
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(lastError ?? new Error(`no answer within ${timeoutMs} ms`)),
            timeoutMs,
          );
        }),
      ]);
    } catch (err) {
      await this.close(false);
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stops consuming; with deleteQueues (a clean stop) the node's queues are removed too. */
  async close(deleteQueues: boolean): Promise<void> {
    this.closing = true;
    clearInterval(this.releaseTimer);
    if (this.releaseSoon) clearImmediate(this.releaseSoon);
    this.held.clear();
    const connection = this.connection;
    this.connection = undefined;
    if (!connection) return;
    if (deleteQueues) {
      try {
        const channel = await Promise.race([
          connection.createChannel(),
          new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), 1000).unref()),
        ]);
        for (const s of this.options.subscriptions) {
          await channel.deleteQueue(queueName(s.network, this.options.chartName)).catch(() => undefined);
        }
      } catch {
        // broker away: the queues expire by themselves (QUEUE_EXPIRES_MS)
      }
    }
    await connection.close().catch(() => undefined);
  }

  private async setup(model: { createChannel(): Promise<Channel> }): Promise<void> {
    const channel = await model.createChannel();
    channel.on('error', () => undefined);
    await channel.prefetch(PREFETCH);
    channel.on('close', () => this.held.delete(channel));
    for (const s of this.options.subscriptions) {
      const queue = queueName(s.network, this.options.chartName);
      await channel.assertExchange(EXCHANGES[s.network], 'topic', { durable: true });
      if (this.firstSetup) {
        // A fresh start: forget what a previous run with this name left behind. ifUnused
        // makes this fail while another live process consumes the queue.
        await this.deleteStaleQueue(model, queue);
      }
      await channel.assertQueue(queue, {
        durable: true,
        arguments: { 'x-message-ttl': MESSAGE_TTL_MS, 'x-expires': QUEUE_EXPIRES_MS },
      });
      await channel.bindQueue(queue, EXCHANGES[s.network], s.bindingKey);
      await channel.consume(queue, (msg) => msg && this.onMessage(channel, s, msg), { exclusive: true });
    }
    this.firstSetup = false;
  }

  private async deleteStaleQueue(model: { createChannel(): Promise<Channel> }, queue: string): Promise<void> {
    const probe = await model.createChannel();
    probe.on('error', () => undefined);
    try {
      await probe.deleteQueue(queue, { ifUnused: true });
      await probe.close();
    } catch (err) {
      const e = err as { code?: number; classId?: number; methodId?: number; message: string };
      throw new BrokerClosedError(
        `queue ${queue} on ${this.options.label} is in use: is another process running a chart named ` +
          `"${this.options.chartName}"? (${e.message})`,
        { replyCode: e.code ?? 0, classId: e.classId, methodId: e.methodId },
      );
    }
  }

  private onMessage(channel: Channel, s: Subscription, msg: ConsumeMessage): void {
    const counters = this.counters[s.network];
    counters.received++;
    const claimed = msg.properties.headers?.[SENDER_HEADER];
    if (s.skipSender !== undefined && claimed === s.skipSender) {
      counters.own++;
      this.ackWhenRoom(channel, msg);
      return;
    }
    let envelope: Envelope;
    try {
      envelope = decodeEnvelope(s.fernet, msg.content, { maxBytes: this.options.maxBodyBytes });
    } catch (err) {
      const reason = err instanceof EnvelopeError ? err.reason : 'schema';
      this.drop(s.network, typeof claimed === 'string' ? claimed : 'an unknown sender', reason, (err as Error).message);
      this.ackWhenRoom(channel, msg);
      return;
    }
    const key = `${s.network}/${envelope.sender}@${envelope.host}`;
    let seen = this.seen.get(key);
    if (!seen) this.seen.set(key, (seen = new SeenWindow()));
    if (!seen.add(envelope.seq)) {
      counters.duplicates++;
      this.ackWhenRoom(channel, msg);
      return;
    }
    counters.delivered++;
    try {
      s.deliver(envelope);
    } catch (err) {
      console.error(`[miros-rabbitmq] ${this.options.chartName}: a ${s.network} handler threw:`, err);
    }
    this.ackWhenRoom(channel, msg);
  }

  /**
   * Acks in batches: the latest delivery of each channel is acked with allUpTo once the
   * current burst of deliveries is handled (setImmediate), or, while the chart is more
   * than BACKLOG_HIGH events behind, only when it is back under BACKLOG_LOW: unacked
   * messages make the broker wait (prefetch), so the backlog stays bounded.
   */
  private ackWhenRoom(channel: Channel, msg: ConsumeMessage): void {
    this.held.set(channel, msg);
    if (this.releaseTimer || this.releaseSoon) return;
    this.releaseSoon = setImmediate(() => {
      this.releaseSoon = undefined;
      if (this.options.backlog() <= BACKLOG_HIGH) return this.release();
      this.releaseTimer = setInterval(() => {
        if (this.options.backlog() > BACKLOG_LOW) return;
        clearInterval(this.releaseTimer);
        this.releaseTimer = undefined;
        this.release();
      }, 5);
    });
  }

  private release(): void {
    for (const [channel, last] of this.held) channel.ack(last, true);
    this.held.clear();
  }

  private drop(network: NetworkName, sender: string, reason: string, detail: string): void {
    const counters = this.counters[network];
    counters.dropped++;
    counters.droppedBy[reason] = (counters.droppedBy[reason] ?? 0) + 1;
    const once = `${network}/${sender}/${reason}`;
    if (this.reported.has(once)) return;
    this.reported.add(once);
    this.options.onDrop(
      `${this.options.chartName}: dropped a ${network} message from ${sender} (${reason}: ${detail}); ` +
        `further ${reason} drops from that sender are only counted (see networkStats())`,
    );
  }
}
