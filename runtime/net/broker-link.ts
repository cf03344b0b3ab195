// The link from this node to one broker (its own or another host's): one recovering
// AMQP connection (amqplib's built-in recovery: exponential backoff with jitter), one
// confirm channel re-created after every reconnect, and the bounded outbox in front.
// A member that refuses us (403, 530: retry.ts) is skipped and the link fails over to the
// others (members.ts); once every member has refused, the link ends in 'refused'.
// A broker that blocks the connection (RabbitMQ's flow control: a memory or disk alarm)
// puts the link in 'blocked': the outbox holds what is published (up to its bound) and
// nothing is resent nor any channel replaced until the broker unblocks it.
import { EventEmitter } from 'node:events';
import type { ChannelModel, ConfirmChannel, RecoveringChannelModel } from 'amqplib';
import { realEnvironment, type Environment, type TimerHandle } from '../env/environment.ts';
import { CLOSE_WAIT_MS, DRAIN_MS, within } from './bounded-close.ts';
import { openRecovering } from './connection.ts';
import { maskUrlPassword } from './errors.ts';
import { classifyError, type ErrorClass } from './retry.ts';
import type { TlsSocketOptions } from './tls.ts';
import { EXCHANGES, type NetworkName } from './topology.ts';
import { Outbox, type OutboxMessage, type OutboxStats } from './outbox.ts';
import { LinkMachine, publicState, type LinkInput, type LinkMachineState, type LinkState } from './link-machine.ts';
import { regressed } from './regressions.ts';

// Its states ('refused': every member refused, terminal like 'closed'; 'blocked': connected,
// but the broker reads nothing we publish) are the link machine's (link-machine.ts).
export type { LinkMachineState, LinkState } from './link-machine.ts';

export interface BrokerLinkOptions {
  /** The broker; clustered: every member of the cluster, tried in order (failover). */
  urls: string[];
  connectionName?: string;
  /** For messages and errors: the URL with its password masked. */
  label: string;
  heartbeat: number;
  /** amqps://: CA, certificate and key (tls.ts). */
  tls?: TlsSocketOptions;
  outboxBound: number;
  /** At most this many events unconfirmed on the wire (outbox.ts; default DEFAULT_MAX_IN_FLIGHT). */
  maxInFlight?: number;
  /** Called with what went wrong (and whether a retry can fix it) whenever the connection fails or drops. */
  onProblem?: (err: Error, cause: ErrorClass) => void;
  /** The clock, timers, randomness and transport (default: the real ones). */
  environment?: Environment;
}

export interface LinkSnapshot extends OutboxStats {
  broker: string;
  /** The address:port dialled now (clustered: the member in use or being tried). */
  endpoint?: string;
  state: LinkState;
  /** The link machine's state (link-machine.ts): idle, connecting, up, blocked, backoff, failed, closed. */
  machine: LinkMachineState;
  reconnects: number;
  /** Connection attempts that failed (each retry counts). */
  failedAttempts: number;
  /** Members that refused us (403, 530; masked): skipped, the link fails over to the others. */
  refusedMembers?: string[];
  /** Confirm channels replaced because nothing was confirmed for CONFIRM_STALL_MS while events were in flight. */
  stalledChannels: number;
  /** Confirm channels replaced because they nacked (each nack round's resend goes out on a fresh channel). */
  nackingChannels: number;
  /** Confirm channels the broker closed with a channel error (403, 404, 406, …) while the connection stayed up: each replaced after CHANNEL_RENEW (lastError says why). */
  closedChannels: number;
  /** How often the broker blocked the connection (flow control), and for how long in all (ms, the current block included). */
  blocked: { count: number; totalMs: number; reason?: string };
  lastError?: string;
}

/**
 * With events in flight and not one confirm (nor nack) for this long, the confirm channel is
 * replaced and the unconfirmed events resent on a new one (receivers drop the copies by
 * sequence number, counted as duplicates). Each resend of a mesh event lands again in every
 * queue that took it, so the wait outlasts what only looks stuck. On RabbitMQ 3.10 after a
 * cluster member's SIGKILL, confirms pause while its quorum queues elect new leaders (the
 * broker resends what went to a dead leader once the new one announces itself), and a channel
 * opened meanwhile (a fail-over's) registers with each queue's leader on its first publish:
 * its first confirms take as long as the elections. Both confirm within seconds once the
 * elections are over; a channel replaced meanwhile starts the registrations over.
 */
export const CONFIRM_STALL_MS = 30_000;

/**
 * Each channel replaced without a confirm since doubles the wait for the next round, up to
 * this: an overloaded broker looks stalled too, and resends add load exactly where it hurts.
 */
export const MAX_CONFIRM_STALL_MS = 120_000;

/**
 * A cluster link that lost its connection publishes nothing on the next one until this long
 * after the loss. Measured (scale scenario, 50 instances, RabbitMQ 3.10, a member SIGKILLed):
 * the instances reconnect to another member 0.7–1 s after the kill, the quorum queues the dead
 * member led elect new leaders 2.9–3.3 s after it, and a channel's first publish to such a
 * queue meanwhile is nacked; the resend of a fanned-out event lands again in every queue that
 * took it. Under load (the same run on 2 busy cores) the elections ended up to 7 s after the
 * kill: 5 s covers most of it without holding a fail-over much longer than the receiving side
 * takes to come back (4–7 s). Past the wait the outbox probes (one event until a confirm; outbox.ts), so an
 * election that takes longer costs one event a round, not the window.
 */
export const FAILOVER_SETTLE_MS = 5000;

/**
 * The broker closed the confirm channel with an error while the connection stayed (a channel
 * error: 403 no write permission on an exchange, 404 an exchange deleted, …): a fresh channel,
 * which declares the exchanges again, takes over after 250 ms, doubling while the errors
 * come with no confirm between them, up to CONFIRM_STALL_MS (an error that stays costs little).
 */
export const CHANNEL_RENEW = { initialDelayMs: 250, maxDelayMs: CONFIRM_STALL_MS } as const;

/** The wait before a closed channel's replacement, after `streak` channel errors in a row (1 = the first). */
export function channelRenewMs(streak: number): number {
  return Math.min(CHANNEL_RENEW.maxDelayMs, CHANNEL_RENEW.initialDelayMs * 2 ** Math.min(Math.max(0, streak - 1), 16));
}

/** The watchdog's wait after `rounds` replacements without a confirm between them. */
export function stallWaitMs(rounds: number): number {
  return Math.min(MAX_CONFIRM_STALL_MS, CONFIRM_STALL_MS * 2 ** Math.min(Math.max(0, rounds), 16));
}

export class BrokerLink {
  readonly outbox: Outbox;
  private connection: RecoveringChannelModel | undefined;
  /** Its state: driven by amqplib's events, the retry policy's verdicts, open() and close(). */
  private readonly machine = new LinkMachine();
  private reconnects = 0;
  private failedAttempts = 0;
  private lastError: string | undefined;
  private endpoint: string | undefined;
  private opening: Promise<void> | undefined;
  /** The live connection's model and its confirm channel (set by the setup after every reconnect). */
  private model: ChannelModel | undefined;
  private channel: ConfirmChannel | undefined;
  private stalledChannels = 0;
  /** Confirm channels replaced because they nacked (the resend goes out on a fresh one). */
  private nackingChannels = 0;
  /** Confirm channels the broker closed with an error; the replacement's timer; errors in a row with no answer between them. */
  private closedChannels = 0;
  private channelRenewal: TimerHandle | undefined;
  /** The closed channel's replacement came due while the broker blocked us: it is made at the unblock. */
  private renewAtUnblock = false;
  private channelErrors = { streak: 0, answersAt: -1 };
  private watchdog: TimerHandle | undefined;
  /** Channels replaced (after the long wait) since the last confirm: the watchdog's back-off. */
  private stallRounds = 0;
  private readonly refusedMembers: string[] = [];
  /** A block heard before the connection's 'connect' (its setup publishes what the outbox holds). */
  private blockedBeforeUp: string | undefined;
  /** When the link last stopped being connected (its creation while connecting); 0 while connected. */
  private readonly env: Environment;
  private notUpSince: number;
  private allRefused = false;
  /** When the connection was last lost (a cluster link's fail-over waits FAILOVER_SETTLE_MS from it). */
  private lostAt: number | undefined;
  private readonly blocked = { count: 0, totalMs: 0, since: 0, reason: undefined as string | undefined };
  /** 'state' after every change of state, 'failed' after every failed attempt, 'problem' with each failure. */
  private readonly events = new EventEmitter<{ state: [LinkState]; failed: []; problem: [Error, ErrorClass]; channelError: [Error] }>();

  constructor(private readonly options: BrokerLinkOptions) {
    this.env = options.environment ?? realEnvironment;
    this.notUpSince = this.env.now();
    this.outbox = new Outbox(options.label, options.outboxBound, {
      environment: this.env,
      ...(options.maxInFlight !== undefined ? { maxInFlight: options.maxInFlight } : {}),
      // seen at M=50 after a member's SIGKILL (RabbitMQ 3.10): a channel whose registration with a
      // quorum queue failed (the queue's record still named the dead leader) nacks every publish
      // to it for as long as it lives, and a channel opened later confirms
      renewChannel: () => void this.renewChannel(),
    });
  }

  /** The broker's URL with the password masked (clustered: names the cluster). */
  get broker(): string {
    return this.options.label;
  }

  /** Connected (blocked by flow control included). */
  get isUp(): boolean {
    return this.machine.connected;
  }

  get linkState(): LinkState {
    return publicState(this.machine.state);
  }

  /** The link machine's own state (link-machine.ts). */
  get machineState(): LinkMachineState {
    return this.machine.state;
  }

  /**
   * Resolves with the state once the link is up, refused or closed (with `untilFailure`: also
   * after a failed attempt), or when `timeoutMs` has passed (then with the state it is still
   * in: 'connecting' or 'down'). Waits on the link's events, never polls; never rejects.
   */
  whenSettled(timeoutMs: number, opts: { untilFailure?: boolean } = {}): Promise<LinkState> {
    const settled = (s: LinkState) => s === 'up' || s === 'blocked' || s === 'refused' || s === 'closed';
    if (settled(this.linkState) || (opts.untilFailure && this.failedAttempts > 0)) return Promise.resolve(this.linkState);
    return new Promise((resolve) => {
      const done = () => {
        this.env.clearTimeout(timer);
        this.events.off('state', onState);
        this.events.off('failed', onFailed);
        resolve(this.linkState);
      };
      const onState = (s: LinkState) => settled(s) && done();
      const onFailed = () => opts.untilFailure && done();
      const timer = this.env.setTimeout(done, timeoutMs);
      this.events.on('state', onState);
      this.events.on('failed', onFailed);
    });
  }

  /** Tells `listener` every change of state, with why (blocked: the broker's reason; down, refused: the error); returns the unsubscribe. */
  onState(listener: (state: LinkState, reason: string | undefined) => void): () => void {
    const heard = (state: LinkState) => listener(state, state === 'blocked' ? this.blocked.reason : state === 'down' || state === 'refused' ? this.lastError : undefined);
    this.events.on('state', heard);
    return () => this.events.off('state', heard);
  }

  /** Also tells `listener` what went wrong (a link shared by several charts tells each); returns the unsubscribe. */
  onProblem(listener: (err: Error, cause: ErrorClass) => void): () => void {
    this.events.on('problem', listener);
    return () => this.events.off('problem', listener);
  }

  /** Tells `listener` each error the broker closed the confirm channel with (the connection stayed up); returns the unsubscribe. */
  onChannelError(listener: (err: Error) => void): () => void {
    this.events.on('channelError', listener);
    return () => this.events.off('channelError', listener);
  }

  /** Starts connecting in the background; the outbox holds messages meanwhile. */
  open(): Promise<void> {
    if (this.opening === undefined) this.move('open');
    this.opening ??= this.doOpen();
    return this.opening;
  }

  /** Events this link holds: waiting in its outbox or on the wire unconfirmed. */
  get held(): number {
    return this.outbox.size;
  }

  /** While up, waits (bounded by timeoutMs) until nothing it holds is unconfirmed; resolves at once otherwise. */
  async settled(timeoutMs: number): Promise<void> {
    if (this.isUp) await this.outbox.settled(timeoutMs);
  }

  publish(message: OutboxMessage): void {
    this.outbox.push(message); // as it is: an OutboxMessage may carry its callbacks as methods
    this.armWatchdog();
  }

  /**
   * Armed while the outbox holds anything unconfirmed (on the wire, or taken back after a nack
   * and waiting to go again): no answer for CONFIRM_STALL_MS replaces the confirm channel,
   * and each further round without a confirm waits twice as long (stallWaitMs). Not armed
   * while the broker blocks us: a blocked connection confirms nothing, by design.
   */
  private armWatchdog(): void {
    if (this.watchdog !== undefined || this.machine.terminal || this.machine.state === 'blocked') return;
    const answers = () => this.answers();
    const seen = answers();
    this.watchdog = this.env.setTimeout(() => {
      this.watchdog = undefined;
      if (this.outbox.size === 0) return;
      if (answers() !== seen) {
        this.stallRounds = 0;
      } else if (this.machine.state === 'up') {
        this.stallRounds++;
        void this.replaceChannel('stalled');
      }
      this.armWatchdog();
    }, regressed(this.env, 'resend-whole-window') ? 10_000 : stallWaitMs(this.stallRounds)); // the old watchdog (test-only switch): every 10 s
    this.watchdog.unref();
  }

  /** Confirms and nacks so far: a nack is an answer too (a channel that nacks is not stuck: the outbox backs off and probes). */
  private answers(): number {
    const o = this.outbox.snapshot();
    return o.confirmed + o.nacked;
  }

  private stopWatchdog(): void {
    this.env.clearTimeout(this.watchdog);
    this.watchdog = undefined;
  }

  /** connection.blocked: hold the outbox, stop the watchdog (nothing is resent, no channel replaced). */
  private onBlocked(reason: string): void {
    if (this.machine.terminal || this.machine.state === 'blocked' || regressed(this.env, 'ignore-blocked')) return;
    if (this.machine.state !== 'up') {
      // blocked while a (re)connect's setup runs, before its 'connect': applied once up
      this.blockedBeforeUp = reason;
      return;
    }
    this.blocked.count++;
    this.blocked.since = this.env.now();
    this.blocked.reason = reason;
    this.outbox.hold();
    this.stopWatchdog();
    this.move('block');
  }

  /** connection.unblocked, or the blocked connection went: sending (and watching) starts again. */
  private endBlock(): void {
    if (this.blocked.since === 0) return;
    this.blocked.totalMs += this.env.now() - this.blocked.since;
    this.blocked.since = 0;
    this.blocked.reason = undefined;
    this.outbox.release();
  }

  /** A reconnect: the watchdog starts over (a new connection, a new channel). */
  private watchFreshConnection(): void {
    this.stallRounds = 0;
    this.stopWatchdog();
    if (this.outbox.size > 0) this.armWatchdog();
  }

  /**
   * A new confirm channel on the live connection, in place of one that stalled or that the
   * broker closed; the outbox resends what the old one left unconfirmed.
   */
  private async replaceChannel(why: 'stalled' | 'closed'): Promise<void> {
    const model = this.model;
    const old = this.channel;
    if (!model || !old) return;
    try {
      const fresh = await this.openConfirmChannel(model);
      if (this.model !== model || this.machine.state !== 'up' || this.channel !== old) {
        void fresh.close().catch(() => undefined);
        return;
      }
      if (why === 'stalled') this.stalledChannels++;
      else this.closedChannels++;
      this.channel = fresh;
      this.outbox.detach('stalled'); // takes back what the old one left unconfirmed (at most maxInFlight) ...
      this.outbox.attach(fresh); // ... and resends it first, in order
      closeQuietly(old);
    } catch {
      // the connection is going: its reconnect sets up a new channel anyway
    }
  }

  /**
   * A confirm channel that declares the exchanges (a replacement too: the broker may have
   * closed the old one because an exchange was deleted) and reports the error the broker
   * closes it with, if ever (a connection's errors come through the connection's events).
   */
  private async openConfirmChannel(model: ChannelModel): Promise<ConfirmChannel> {
    const channel = await model.createConfirmChannel();
    channel.on('error', (err: Error) => this.channelClosedByBroker(channel, err));
    for (const network of Object.keys(EXCHANGES) as NetworkName[]) {
      await channel.assertExchange(EXCHANGES[network], 'topic', { durable: true });
    }
    return channel;
  }

  /**
   * The broker closed the confirm channel with an error while the connection stays (the
   * outbox has taken back what was on it when it heard the close): said (onChannelError), and
   * a fresh channel takes over after channelRenewMs, not after the stall watchdog's wait.
   */
  private channelClosedByBroker(channel: ConfirmChannel, err: Error): void {
    if (channel !== this.channel || this.machine.terminal) return;
    this.lastError = err.message;
    const answers = this.answers();
    if (answers !== this.channelErrors.answersAt) this.channelErrors.streak = 0;
    this.channelErrors = { streak: this.channelErrors.streak + 1, answersAt: answers };
    this.events.emit('channelError', err);
    this.env.clearTimeout(this.channelRenewal);
    this.channelRenewal = this.env.setTimeout(() => {
      this.channelRenewal = undefined;
      if (this.channel !== channel) return;
      if (this.machine.state === 'blocked') this.renewAtUnblock = true; // no channel replacement while blocked
      else void this.replaceChannel('closed');
    }, channelRenewMs(this.channelErrors.streak));
    this.channelRenewal.unref();
  }

  /**
   * The confirm channel nacked and the nack back-off is over: the resend goes out on a fresh
   * channel; the old one is closed once what is still on the wire on it is answered (outbox).
   */
  private async renewChannel(): Promise<void> {
    const model = this.model;
    if (!model || this.machine.state !== 'up') return; // blocked: renewed at the unblock; down: the reconnect brings one
    try {
      const fresh = await this.openConfirmChannel(model);
      if (this.model !== model || this.machine.state !== 'up' || !this.outbox.awaitsFreshChannel) {
        void fresh.close().catch(() => undefined);
        return;
      }
      this.nackingChannels++;
      this.channel = fresh;
      this.outbox.replace(fresh);
    } catch {
      // the connection is going: its reconnect sets up a new channel anyway
    }
  }

  snapshot(): LinkSnapshot {
    return {
      broker: this.options.label,
      state: this.linkState,
      machine: this.machine.state,
      reconnects: this.reconnects,
      failedAttempts: this.failedAttempts,
      stalledChannels: this.stalledChannels,
      nackingChannels: this.nackingChannels,
      closedChannels: this.closedChannels,
      blocked: {
        count: this.blocked.count,
        totalMs: this.blocked.totalMs + (this.blocked.since > 0 ? this.env.now() - this.blocked.since : 0),
        ...(this.blocked.reason !== undefined ? { reason: this.blocked.reason } : {}),
      },
      ...(this.endpoint ? { endpoint: this.endpoint } : {}),
      ...(this.lastError ? { lastError: this.lastError } : {}),
      ...(this.refusedMembers.length > 0 ? { refusedMembers: [...this.refusedMembers] } : {}),
      ...this.outbox.snapshot(),
    };
  }

  /** Waits (bounded) for the outbox to empty, then closes the connection. */
  async close(drainMs = DRAIN_MS): Promise<void> {
    await this.settled(drainMs);
    this.move('close');
    this.stopWatchdog();
    this.env.clearTimeout(this.channelRenewal);
    this.outbox.abandon();
    await this.opening?.catch(() => undefined);
    // amqplib waits for the broker's close-ok: bounded, so a killed or stuck broker cannot hang a stop
    await within(CLOSE_WAIT_MS, this.connection?.close(), this.env);
  }

  private async doOpen(): Promise<void> {
    const connection = await openRecovering(this.options.urls, this.options.heartbeat, async (model) => {
      const channel = await this.openConfirmChannel(model);
      this.model = model;
      this.channel = channel;
      // a fail-over: the members left may still be electing leaders for the dead one's queues
      if (this.lostAt !== undefined && this.options.urls.length > 1) this.outbox.settle(this.lostAt + FAILOVER_SETTLE_MS - this.env.now());
      this.outbox.attach(channel);
    }, {
      ...(this.options.connectionName ? { connectionName: this.options.connectionName } : {}),
      ...(this.options.tls ? { tls: this.options.tls } : {}),
      environment: this.env,
      onEndpoint: (url) => {
        const u = new URL(url);
        this.endpoint = u.host;
      },
      onRefused: (url, _err, all) => {
        this.refusedMembers.push(maskUrlPassword(url));
        if (all) this.allRefused = true;
      },
    });
    this.connection = connection;
    connection.on('connect', () => {
      if (this.machine.terminal) return;
      const reconnect = this.machine.state === 'backoff';
      if (reconnect) this.reconnects++;
      this.move('connect');
      if (reconnect) this.watchFreshConnection();
      const early = this.blockedBeforeUp;
      this.blockedBeforeUp = undefined;
      if (early !== undefined) this.onBlocked(early);
    });
    const problem = (err: Error, cause: ErrorClass) => {
      this.lastError = err.message;
      this.options.onProblem?.(err, cause);
      this.events.emit('problem', err, cause);
    };
    // RabbitMQ's flow control (amqplib's recovering model passes the connection's events on)
    connection.on('blocked', (reason: string) => this.onBlocked(reason));
    connection.on('unblocked', () => {
      this.blockedBeforeUp = undefined;
      if (this.machine.state !== 'blocked') return;
      this.endBlock();
      this.move('unblock');
      if (this.renewAtUnblock) void this.replaceChannel('closed');
      this.renewAtUnblock = false;
      this.stallRounds = 0;
      if (this.outbox.awaitsFreshChannel) void this.renewChannel();
      if (this.outbox.size > 0) this.armWatchdog();
    });
    connection.on('disconnect', (err: Error) => {
      if (this.machine.terminal) return;
      this.endBlock(); // a new connection starts unblocked (the broker blocks it again if the alarm holds)
      this.blockedBeforeUp = undefined;
      // a closed channel's replacement is moot: the reconnect's setup opens a fresh channel
      this.env.clearTimeout(this.channelRenewal);
      this.channelRenewal = undefined;
      this.renewAtUnblock = false;
      this.move('disconnect');
      this.lostAt = this.env.now();
      this.outbox.detach();
      problem(err, classifyError(err));
    });
    connection.on('connect-failed', (err: Error) => {
      if (this.machine.state === 'up' || this.machine.terminal) return;
      this.failedAttempts++;
      const cause = classifyError(err);
      // every member refused: openRecovering has stopped the connection; the outbox keeps what is
      // published (up to its bound, then OutboxOverflowError as for any broker that stays away).
      // One member refusing: the next attempt dials another (failover).
      this.move(this.allRefused ? 'refuse' : 'fail');
      problem(err, cause);
      this.events.emit('failed');
    });
  }

  /** How long the link has not been connected (0 while it is, blocked included). */
  get notUpForMs(): number {
    return this.notUpSince === 0 ? 0 : this.env.now() - this.notUpSince;
  }

  /** Moves the machine; a change of the public state is told to the onState listeners. */
  private move(input: LinkInput): void {
    const wasUp = this.isUp;
    const before = this.linkState;
    if (this.machine.fire(input) === undefined) return;
    if (this.isUp) this.notUpSince = 0;
    else if (wasUp) this.notUpSince = this.env.now();
    const state = this.linkState;
    if (state !== before) this.events.emit('state', state);
  }
}

/** Closes a channel that may be closed already (the broker closed it): nothing to wait for. */
function closeQuietly(channel: ConfirmChannel): void {
  try {
    void channel.close().catch(() => undefined);
  } catch {
    // closed already
  }
}
