// What a chart receives: its own channel on the process's consuming connection to its own
// broker (shared-connection.ts: one per broker, or clustered one to a member of the cluster,
// failing over to the others, whatever the number of charts), one queue per enabled network
// bound to that network's exchange, consumed by this process alone. Every message is decrypted and
// validated; a bad one is acked and dropped (never requeued: the reference's nack-requeue
// made a hot loop), counted, and reported once per sender and reason. Duplicates (an outbox
// resending after a reconnect or a nack) are dropped by the per-sender sequence number
// (seen-window.ts: a late event is kept). A mesh event is acked only once the chart's
// run-to-completion step has handled it (ack-tracker.ts), so a killed process loses none:
// the broker redelivers what was not acked (at least once). A chart's queues outlive a
// crash or a stop (queueExpiresMs) and are found again by its restart (only leaving deletes
// them: close(true)); expired messages are
// dead-lettered to a queue of the chart's own and counted as drops ('expired').
import type { Channel, ConsumeMessage } from 'amqplib';
import { realEnvironment, type Environment, type TimerHandle } from '../env/environment.ts';
import { within } from './bounded-close.ts';
import { AckTracker } from './ack-tracker.ts';
import { Admission } from './admission.ts';
import { BoundedSet } from './bounded.ts';
import { decodeEnvelope, type Envelope } from './envelope.ts';
import { ChartInUseError, EnvelopeError } from './errors.ts';
import type { TokenCipher } from './fernet.ts';
import { DEFAULT_CLOCK_SKEW_MS } from './security-options.ts';
import { SeenWindows } from './seen-window.ts';
import { UnhandledOriginals } from './unhandled-originals.ts';
import { sessionOf } from './session.ts';
import type { SharedConnection, Tenant } from './shared-connection.ts';
import type { LinkMachineState } from './link-machine.ts';
import type { TlsSocketOptions } from './tls.ts';
import { DEAD_EXCHANGE, EXCHANGES, SENDER_HEADER, deadQueuePlan, lockQueuePlan, queuePlan, type NetworkName, type TopologyKind } from './topology.ts';
import { regressed } from './regressions.ts';

export interface Subscription {
  network: NetworkName;
  bindingKey: string;
  /** A Fernet, or the network's KeyRing (key-ring.ts: swappable while consuming). */
  fernet: TokenCipher;
  /**
   * Takes a valid envelope; `handled` acks it (with everything delivered before it). The mesh
   * calls it after the chart's run-to-completion step for the event; a snoop line at once.
   */
  deliver: (envelope: Envelope, handled: () => void) => void;
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
  /** Deliveries the broker flagged as redelivered (after a lost connection or a restart): at least once. */
  redelivered: number;
  /** Dedup windows forgotten by their bounds (a sender's oldest incarnations; the senders heard first). */
  windowsShed: number;
  /** Times the broker cancelled our consumer of this network's queue (the queue was deleted); each set up again. */
  cancelled: number;
}

/** How the receiver consumes now, for networkStats().receiving. */
export interface ReceiverSnapshot {
  /**
   * 'up': consuming every queue; 'resubscribing': the broker cancelled a consumer and the
   * queues are being declared and consumed again (retry policy); 'connecting': no channel
   * (the connection is down or being set up); 'closed': stopped.
   */
  state: 'up' | 'resubscribing' | 'connecting' | 'closed';
  /** Consumers the broker cancelled so far (every network and the dead-letter queue). */
  cancels: number;
  /** The last cancel: which queue, when (ms since the epoch). */
  lastCancel?: { queue: string; at: number };
  /** The consuming connection's state in the link machine (link-machine.ts), while the receiver has one. */
  connection?: LinkMachineState;
}

export interface ReceiverOptions {
  /** The own broker; clustered: every member, this host's first (failover goes down the list). */
  urls: string[];
  label: string;
  chartName: string;
  /** This host's address: part of the queue names in a cluster. */
  host: string;
  topology: TopologyKind;
  messageTtl: number;
  /** How long its queues outlive it unused (x-expires; default QUEUE_EXPIRES_MS). */
  queueExpiresMs?: number;
  heartbeat: number;
  connectionName?: string;
  /** amqps://: CA, certificate and key (tls.ts). */
  tls?: TlsSocketOptions;
  maxBodyBytes?: number;
  subscriptions: Subscription[];
  /** Deliver envelopes without the authenticated destination (senders that predate it; admission.ts). Default false. */
  acceptUnbound?: boolean;
  /** Clock-skew allowance: the replay bound is messageTtl + this (replay-guard.ts). */
  clockSkewMs?: number;
  /** Called once per (sender, reason) with a one-line explanation of a dropped message. */
  onDrop: (message: string) => void;
  onProblem?: (err: Error) => void;
  /** Told when the broker cancels a consumer (its queue was deleted); default: nobody. */
  onWarning?: (message: string) => void;
  /** The clock, timers, randomness and transport (default: the real ones). */
  environment?: Environment;
}

/**
 * Unacked deliveries per consumer: how much the broker hands us before waiting for acks. As
 * a mesh event is acked only once handled, this also bounds the chart's queue of received events.
 */
export const PREFETCH = 500;

/** (network, sender, reason) triples already reported once; beyond, the oldest are shed (and may be reported again). */
export const MAX_REPORTED = 1_000;

/** How long each step of close() waits for the broker (closing the channel, each queue deletion). */
const CLOSE_STEP_MS = 1000;

/** The words of the warning that follows a cancel's once its queues are declared and consumed again (a checker finds the gap's end by them). */
export const RESUBSCRIBED = 'consuming its queues again';

export const newCounters = (): NetworkCounters => ({ received: 0, delivered: 0, duplicates: 0, dropped: 0, droppedBy: {}, own: 0, redelivered: 0, windowsShed: 0, cancelled: 0 });

export class Receiver implements Tenant {
  readonly counters: Record<NetworkName, NetworkCounters> = { mesh: newCounters(), trace: newCounters(), spy: newCounters() };
  private shared: SharedConnection | undefined;
  /** This receiver's consuming channel now (one for all of its queues). */
  private channel: Channel | undefined;
  /** Dedup windows per network, sender and incarnation (seen-window.ts: bounded, counts what it sheds). */
  private readonly seen: Record<NetworkName, SeenWindows> = { mesh: new SeenWindows(), trace: new SeenWindows(), spy: new SeenWindows() };
  /** Delivered, not handled yet: a redelivered copy's ack waits for its original (unhandled-originals.ts). */
  private readonly unhandled = new UnhandledOriginals();
  private readonly reported = new BoundedSet<string>(MAX_REPORTED);
  private readonly admission: Admission;
  private closing = false;
  private readonly trackers = new Map<Channel, AckTracker<ConsumeMessage>>();
  /** Dead-letter routing key (a queue name) → the network it belongs to. */
  private readonly networkOfQueue = new Map<string, NetworkName>();
  private endpoint: string | undefined;
  /** Set up on the current channel (every queue declared and consumed). */
  private consuming = false;
  private resubscribing = false;
  private cancels = 0;
  private lastCancel: { queue: string; at: number } | undefined;
  /** Its name@host in `receiving`, while open. */
  private claimed: string | undefined;

  private readonly env: Environment;

  constructor(private readonly options: ReceiverOptions) {
    this.env = options.environment ?? realEnvironment;
    this.admission = new Admission({
      acceptUnbound: options.acceptUnbound,
      replayBoundMs: options.messageTtl + (options.clockSkewMs ?? DEFAULT_CLOCK_SKEW_MS),
      now: this.env.now,
    });
  }

  /** What the bounded bookkeeping shed, and the replay bound's re-anchored restarts (networkStats().bookkeeping). */
  get bookkeeping(): { dedupWindowsShed: number; reportsShed: number; replayStreamsShed: number; replayReanchored: number } {
    const replay = this.admission.replayCounters;
    const dedupWindowsShed = this.seen.mesh.shed + this.seen.trace.shed + this.seen.spy.shed;
    return { dedupWindowsShed, reportsShed: this.reported.shed, replayStreamsShed: replay.shed, replayReanchored: replay.reanchored };
  }

  /** The URL the connection dials now (clustered: the member in use or being tried). */
  get currentEndpoint(): string | undefined {
    return this.endpoint;
  }

  /** Takes its place on the process's consuming connection and consumes; rejects if that fails within timeoutMs. */
  async open(timeoutMs: number): Promise<void> {
    const o = this.options;
    const me = `${o.chartName}@${o.host}`;
    const session = sessionOf(this.env);
    if (!session.claimChart(me)) {
      throw new ChartInUseError(o.chartName, o.host, `chart ${o.chartName}: this process already runs a chart of that name on host ${o.host}; stop it first, or give this one another name`);
    }
    this.claimed = me;
    const shared = session.joinShared(
      { urls: o.urls, heartbeat: o.heartbeat, ...(o.connectionName ? { connectionName: o.connectionName } : {}), ...(o.tls ? { tls: o.tls } : {}), environment: this.env },
      this,
    );
    this.shared = shared;
    try {
      await shared.whenReady(this, timeoutMs);
    } catch (err) {
      await this.close(false);
      throw err;
    }
  }

  /** The chart ended a run-to-completion step: if it has handled every delivery, ack them now (ack-tracker.ts). */
  ackCaughtUp(): void {
    const channel = this.channel;
    if (channel !== undefined) this.trackers.get(channel)?.flushIfCaughtUp();
  }

  snapshot(): ReceiverSnapshot {
    const state = this.closing ? 'closed' : this.resubscribing ? 'resubscribing' : this.consuming ? 'up' : 'connecting';
    const connection = this.shared?.machineState;
    return { state, cancels: this.cancels, ...(this.lastCancel ? { lastCancel: { ...this.lastCancel } } : {}), ...(connection ? { connection } : {}) };
  }

  /** Tenant: the connection failed or dropped, or this receiver's setup failed. */
  onProblem(err: Error): void {
    if (!this.closing) this.options.onProblem?.(err);
  }

  /** Tenant: the URL the shared connection dials now. */
  onEndpoint(url: string): void {
    this.endpoint = url;
  }

  /**
   * Stops consuming (closing its own channel: the other charts' consumers on the shared
   * connection go on); with deleteQueues (the chart leaves the mesh: leave()) its queues
   * are removed too. Without (a stop, or a crash), they wait for a restart of the same chart
   * on the same host for queueExpiresMs. Unacked deliveries go back to the broker.
   */
  async close(deleteQueues: boolean): Promise<void> {
    this.closing = true;
    if (this.claimed !== undefined) sessionOf(this.env).releaseChart(this.claimed);
    this.claimed = undefined;
    for (const tracker of this.trackers.values()) tracker.discard();
    this.trackers.clear();
    const shared = this.shared;
    const channel = this.channel;
    this.shared = undefined;
    this.channel = undefined;
    if (!shared) return;
    // every step bounded: a broker that stops answering (killed, partitioned, overloaded) must not hang a stop
    await within(CLOSE_STEP_MS, channel?.close(), this.env);
    if (deleteQueues) {
      try {
        const last = await shared.channel(CLOSE_STEP_MS);
        for (const name of [...this.networkOfQueue.keys(), this.deadQueue().name]) {
          if (!(await within(CLOSE_STEP_MS, last.deleteQueue(name), this.env))) break; // broker away: the rest expire by themselves
        }
        void last.close().catch(() => undefined);
      } catch {
        // broker away: the queues expire by themselves (queueExpiresMs)
      }
    }
    await sessionOf(this.env).leaveShared(shared, this);
  }

  private deadQueue() {
    return deadQueuePlan(this.options.chartName, this.options.host, this.options);
  }

  /** Tenant: its channel, queues and consumers on a new (or newly shared) connection. */
  async setup(model: { createChannel(): Promise<Channel> }): Promise<void> {
    if (this.closing) return;
    const channel = await model.createChannel();
    channel.on('error', () => undefined);
    this.consuming = false;
    const previous = this.channel;
    this.channel = channel;
    // a channel left from a failed setup on this connection: its consumers must not linger
    if (previous && previous !== channel) void previous.close().catch(() => undefined);
    const tracker: AckTracker<ConsumeMessage> = new AckTracker<ConsumeMessage>((last) => {
      try {
        channel.ack(last, true);
      } catch {
        // the channel is closing ('close' not emitted yet: amqplib throws "Channel closing"):
        // the broker requeues what was not acked, and it comes back to the next consumer
        tracker.discard();
      }
    }, (fn) => this.env.setImmediate(fn), undefined, (handle) => this.env.clearImmediate(handle as TimerHandle));
    this.trackers.set(channel, tracker);
    channel.on('close', () => {
      tracker.discard();
      this.trackers.delete(channel);
      // closed by the broker while the connection may live on: set up again (a lost connection's reconnect does that anyway)
      if (this.channel === channel && !this.closing) {
        this.channel = undefined;
        this.consuming = false;
        this.shared?.channelLost(this);
      }
    });
    await channel.prefetch(PREFETCH);
    if (this.options.topology === 'clustered') {
      // a second process of this chart name on this host is refused here (RESOURCE_LOCKED)
      const lock = lockQueuePlan(this.options.chartName, this.options.host);
      await channel.assertQueue(lock.name, lock.options);
    }
    const dead = this.deadQueue();
    await channel.assertExchange(DEAD_EXCHANGE, 'direct', { durable: true });
    await channel.assertQueue(dead.name, dead.options);
    for (const s of this.options.subscriptions) {
      const plan = queuePlan(s.network, this.options.chartName, this.options.host, this.options);
      this.networkOfQueue.set(plan.name, s.network);
      await channel.assertExchange(EXCHANGES[s.network], 'topic', { durable: true });
      await channel.assertQueue(plan.name, plan.options);
      await channel.bindQueue(plan.name, EXCHANGES[s.network], s.bindingKey);
      await channel.bindQueue(dead.name, DEAD_EXCHANGE, plan.name);
      await channel.consume(plan.name, (msg) => (msg ? this.onMessage(channel, tracker, s, msg) : this.onCancel(channel, plan.name, s.network)), {
        exclusive: plan.exclusiveConsumer,
      });
    }
    await channel.consume(dead.name, (msg) => (msg ? this.onDead(tracker, msg) : this.onCancel(channel, dead.name)), { exclusive: dead.exclusiveConsumer });
    if (this.channel === channel) {
      this.consuming = true;
      if (this.resubscribing && this.lastCancel) {
        // the end of the cancel's gap: what the broker routed to the queue meanwhile went nowhere
        const queues = [...this.networkOfQueue.keys()].join(', ');
        this.options.onWarning?.(`${this.options.chartName}: ${RESUBSCRIBED} (${queues}) ${this.env.now() - this.lastCancel.at} ms after the broker's cancel`);
      }
      this.resubscribing = false;
    }
  }

  /**
   * The broker cancelled our consumer of `queue` (amqplib hands the callback null): the queue
   * was deleted (by an operator, a node leaving, another process of this chart name leaving).
   * What it held is gone; from now on nothing would arrive, so the channel is closed and set up
   * again (its 'close' listener: the shared connection's retry policy), which declares the
   * queue afresh and consumes it. Unacked deliveries of the channel are redelivered (dedup).
   */
  private onCancel(channel: Channel, queue: string, network?: NetworkName): void {
    if (this.closing || this.channel !== channel || regressed(this.env, 'ignore-consumer-cancel')) return;
    this.cancels++;
    this.lastCancel = { queue, at: this.env.now() };
    if (network) this.counters[network].cancelled++;
    this.resubscribing = true;
    this.options.onWarning?.(
      `${this.options.chartName}: the broker cancelled its consumer of ${queue} (the queue was deleted; what it held is gone); ` +
        `declaring it again and consuming (counted in networkStats(): receiving.cancels)`,
    );
    void channel.close().catch(() => undefined);
  }

  /** A message that died in one of our queues (expired by its TTL, or rejected): counted by reason. */
  private onDead(tracker: AckTracker<ConsumeMessage>, msg: ConsumeMessage): void {
    const handled = tracker.add(msg);
    const network = this.networkOfQueue.get(msg.fields.routingKey);
    const deaths = msg.properties.headers?.['x-death'] as Array<{ reason?: string }> | undefined;
    const reason = deaths?.[0]?.reason ?? String(msg.properties.headers?.['x-first-death-reason'] ?? 'dead');
    if (network) {
      const claimed = msg.properties.headers?.[SENDER_HEADER];
      this.counters[network].received++;
      this.drop(network, typeof claimed === 'string' ? claimed : 'an unknown sender', reason, `the broker ${reason === 'expired' ? `expired it after ${this.options.messageTtl} ms in the queue (messageTtl)` : `dead-lettered it (${reason})`}`);
    }
    handled();
  }

  private onMessage(_channel: Channel, tracker: AckTracker<ConsumeMessage>, s: Subscription, msg: ConsumeMessage): void {
    const counters = this.counters[s.network];
    counters.received++;
    if (msg.fields.redelivered) counters.redelivered++;
    const handled = tracker.add(msg);
    const claimed = msg.properties.headers?.[SENDER_HEADER];
    if (s.skipSender !== undefined && claimed === s.skipSender) {
      counters.own++;
      handled();
      return;
    }
    let envelope: Envelope;
    try {
      envelope = decodeEnvelope(s.fernet, msg.content, { maxBytes: this.options.maxBodyBytes });
    } catch (err) {
      // counted as networkStats().drops names it: one name per counter ('decrypt' is the error's reason)
      const reason = err instanceof EnvelopeError ? (err.reason === 'decrypt' ? 'undecryptable' : err.reason) : 'schema';
      this.drop(s.network, typeof claimed === 'string' ? claimed : 'an unknown sender', reason, (err as Error).message);
      handled();
      return;
    }
    const refused = this.admission.refuse(s.network, msg.fields.routingKey, envelope, msg.content);
    if (refused) {
      this.drop(s.network, envelope.sender, refused.reason, refused.detail);
      handled();
      return;
    }
    // one window per sender and incarnation: a restart (new iid) may number below the old one
    const sender = `${envelope.sender}@${envelope.host}`;
    const seen = this.seen[s.network];
    const identity = `${s.network}/${sender}/${envelope.iid ?? ''}#${envelope.seq}`;
    const fresh = seen.add(sender, regressed(this.env, 'no-incarnations') ? undefined : envelope.iid, envelope.seq);
    counters.windowsShed = seen.shed;
    if (!fresh) {
      counters.duplicates++;
      if (regressed(this.env, 'ack-redelivered-copies') || !this.unhandled.follow(identity, handled)) handled();
      return;
    }
    counters.delivered++;
    const handledOriginal = this.unhandled.begin(identity, handled);
    try {
      s.deliver(envelope, handledOriginal);
    } catch (err) {
      handledOriginal();
      console.error(`[miros-rabbitmq] ${this.options.chartName}: a ${s.network} handler threw:`, err);
    }
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
