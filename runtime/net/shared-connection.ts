// One recovering AMQP connection shared by the consumers ("tenants") of one process: every
// chart's Receiver (and a snoop observer) takes a place on it instead of dialling its own,
// so a process holds one consuming connection per broker (clustered: per cluster), however
// many charts it runs. Each tenant keeps its own channel(s): one consumer per chart queue,
// a chart's stop() cancels only its own consumers (closing its channel) and deletes only
// its own queues.
//
// Tenants are isolated from each other: a tenant whose setup fails (its queue in exclusive
// use by another process, a quorum queue without a leader for a moment) is retried on its
// own, with the retry policy's delays, on the same connection; the connection is only
// dropped when the connection itself is gone. A tenant whose channel the broker closes while
// the connection stays up is set up again the same way, so a chart never stays deaf on a
// live connection. Every (re)connect runs every tenant's setup on the new connection.
import type { ChannelModel, RecoveringChannelModel } from 'amqplib';
import { realEnvironment, type Environment, type TimerHandle } from '../env/environment.ts';
import { CLOSE_WAIT_MS, within } from './bounded-close.ts';
import { openRecovering } from './connection.ts';
import { LinkMachine, type LinkMachineState } from './link-machine.ts';
import { retryDelayMs } from './retry.ts';
import type { TlsSocketOptions } from './tls.ts';

export interface SharedConnectionOptions {
  /** The broker; clustered: every member, tried in order (failover). */
  urls: string[];
  heartbeat: number;
  connectionName?: string;
  tls?: TlsSocketOptions;
  /** The clock, timers, randomness and transport (default: the real ones; each has its own session, session.ts). */
  environment?: Environment;
}

export interface Tenant {
  /** Opens this tenant's channel(s) and consumers on `model`: on every (re)connect, and on joining a live connection. */
  setup(model: ChannelModel): Promise<void>;
  /** Told about the connection's failures and drops, and about this tenant's own failed setups. */
  onProblem?(err: Error): void;
  /** Told which URL the connection dials (the first, and the next after every failure or drop). */
  onEndpoint?(url: string): void;
}

interface Seat {
  tenant: Tenant;
  /** The model this tenant's setup last succeeded on. */
  readyOn: ChannelModel | undefined;
  attempt: number;
  timer: TimerHandle | undefined;
  waiters: Set<{ resolve: () => void; reject: (err: Error) => void }>;
}

export class SharedConnection {
  private connection: RecoveringChannelModel | undefined;
  private opening: Promise<RecoveringChannelModel> | undefined;
  /** The connection's live model (undefined while it is down). */
  private model: ChannelModel | undefined;
  private readonly seats = new Map<Tenant, Seat>();
  private lastError: Error | undefined;
  private failure: Error | undefined;
  /** The connection's state (link-machine.ts), moved by the same amqplib events as a publishing link's. */
  private readonly machine = new LinkMachine();

  private readonly env: Environment;

  constructor(readonly options: SharedConnectionOptions) {
    this.env = options.environment ?? realEnvironment;
  }

  /** Closed by its last tenant. */
  private get closed(): boolean {
    return this.machine.state === 'closed';
  }

  /** The connection's state in the link machine (networkStats().receiving.connection). */
  get machineState(): LinkMachineState {
    return this.machine.state;
  }

  /** Tenants seated now. */
  get size(): number {
    return this.seats.size;
  }

  /** Refused for good (credentials, vhost, TLS) or closed: the session (session.ts) makes a new one for the next user. */
  get dead(): boolean {
    return this.closed || this.failure !== undefined;
  }

  /** Seats `tenant`: its setup runs on the live connection now (or on the first connect), and on every reconnect. */
  join(tenant: Tenant): void {
    if (this.seats.has(tenant)) return;
    const seat: Seat = { tenant, readyOn: undefined, attempt: 0, timer: undefined, waiters: new Set() };
    this.seats.set(tenant, seat);
    if (this.model) void this.seat(seat, this.model);
    else void this.open();
  }

  /**
   * Resolves once `tenant`'s setup has succeeded (now or on a later connection); rejects with
   * the connection's last error after timeoutMs, or at once when the connection gave up
   * (refused, or connection_attempts exhausted).
   */
  whenReady(tenant: Tenant, timeoutMs: number): Promise<void> {
    const seat = this.seats.get(tenant);
    if (!seat) return Promise.reject(new Error('SharedConnection.whenReady: not a tenant'));
    if (seat.readyOn !== undefined && seat.readyOn === this.model) return Promise.resolve();
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<void>((resolve, reject) => {
      const waiter = {
        resolve: () => {
          this.env.clearTimeout(timer);
          seat.waiters.delete(waiter);
          resolve();
        },
        reject: (err: Error) => {
          this.env.clearTimeout(timer);
          seat.waiters.delete(waiter);
          reject(err);
        },
      };
      const timer = this.env.setTimeout(() => waiter.reject(this.lastError ?? new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      seat.waiters.add(waiter);
    });
  }

  /**
   * The tenant's channel closed while the connection may still be up: set it up again after
   * the retry policy's delay, unless the connection went too (the reconnect then sets it up).
   */
  channelLost(tenant: Tenant): void {
    const seat = this.seats.get(tenant);
    const model = this.model;
    if (!seat || !model || this.closed) return;
    if (seat.readyOn === model) seat.readyOn = undefined;
    this.retryLater(seat, model);
  }

  /** Unseats `tenant` (its own channels are its business); returns how many remain. */
  leave(tenant: Tenant): number {
    const seat = this.seats.get(tenant);
    if (seat) {
      this.env.clearTimeout(seat.timer);
      for (const w of [...seat.waiters]) w.reject(new Error('left the connection'));
      this.seats.delete(tenant);
    }
    return this.seats.size;
  }

  /** A channel on the live connection for a tenant's last words (deleting its queues); rejects after timeoutMs. */
  async channel(timeoutMs: number): Promise<Awaited<ReturnType<ChannelModel['createChannel']>>> {
    const model = this.model;
    if (!model) throw new Error('the connection is down');
    let timer: TimerHandle | undefined;
    try {
      return await Promise.race([
        model.createChannel(),
        new Promise<never>((_, reject) => (timer = this.env.setTimeout(() => reject(new Error(`no channel within ${timeoutMs} ms`)), timeoutMs))),
      ]);
    } finally {
      this.env.clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    this.machine.fire('close');
    for (const seat of this.seats.values()) {
      this.env.clearTimeout(seat.timer);
      for (const w of [...seat.waiters]) w.reject(new Error('connection closed'));
    }
    this.seats.clear();
    this.model = undefined;
    const connection = this.connection ?? (await this.opening?.catch(() => undefined));
    // amqplib waits for the broker's close-ok: bounded, a dead or stuck broker must not hang a stop
    await within(CLOSE_WAIT_MS, connection?.close(), this.env);
  }

  private open(): Promise<RecoveringChannelModel> {
    if (this.opening === undefined) this.machine.fire('open');
    this.opening ??= this.doOpen();
    return this.opening;
  }

  private async doOpen(): Promise<RecoveringChannelModel> {
    const connection = await openRecovering(this.options.urls, this.options.heartbeat, (model) => this.setupAll(model), {
      ...(this.options.connectionName ? { connectionName: this.options.connectionName } : {}),
      ...(this.options.tls ? { tls: this.options.tls } : {}),
      environment: this.env,
      onEndpoint: (url) => {
        for (const seat of this.seats.values()) seat.tenant.onEndpoint?.(url);
      },
    });
    this.connection = connection;
    if (this.closed) {
      await connection.close().catch(() => undefined);
      return connection;
    }
    connection.on('connect', (model: ChannelModel) => {
      this.machine.fire('connect');
      this.model = model;
      for (const seat of this.seats.values()) {
        if (seat.readyOn === model) for (const w of [...seat.waiters]) w.resolve();
        // a tenant that joined while this connection's setup ran
        else if (seat.timer === undefined) void this.seat(seat, model);
      }
    });
    connection.on('connect-failed', (err: Error) => {
      this.machine.fire('fail');
      this.lastError = err;
      this.tell(err);
    });
    connection.on('disconnect', (err: Error) => {
      this.machine.fire('disconnect');
      this.model = undefined;
      this.lastError = err;
      if (!this.closed) this.tell(err);
    });
    // RabbitMQ's flow control: consuming goes on, but the machine shows the block
    connection.on('blocked', () => this.machine.fire('block'));
    connection.on('unblocked', () => this.machine.fire('unblock'));
    connection.waitForConnect().catch((err: Error) => {
      // refused for good (connection.ts has closed it), or connection_attempts exhausted
      if (this.closed) return;
      this.machine.fire('refuse');
      this.failure = err;
      for (const seat of this.seats.values()) for (const w of [...seat.waiters]) w.reject(err);
    });
    return connection;
  }

  /** The recovery's setup: every tenant on the new connection. Fails only if the connection itself died meanwhile. */
  private async setupAll(model: ChannelModel): Promise<void> {
    let gone = false;
    const onClose = () => (gone = true);
    model.once('close', onClose);
    try {
      for (const seat of [...this.seats.values()]) {
        this.env.clearTimeout(seat.timer);
        seat.timer = undefined;
        seat.attempt = 0;
        await this.seat(seat, model);
        if (gone) throw this.lastError ?? new Error('the connection closed during setup');
      }
    } finally {
      model.off('close', onClose);
    }
    // the recovery emits 'connect' next: the tenants set up here are ready from then on
  }

  private async seat(seat: Seat, model: ChannelModel): Promise<void> {
    if (!this.seats.has(seat.tenant) || this.closed) return;
    try {
      await seat.tenant.setup(model);
      seat.attempt = 0;
      seat.readyOn = model;
      // during a (re)connect's setup the model is not live yet: 'connect' resolves the waiters
      if (this.model === model) for (const w of [...seat.waiters]) w.resolve();
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      this.lastError = error;
      seat.tenant.onProblem?.(error);
      this.retryLater(seat, model);
    }
  }

  private retryLater(seat: Seat, model: ChannelModel): void {
    if (seat.timer !== undefined || this.closed) return;
    seat.timer = this.env.setTimeout(() => {
      seat.timer = undefined;
      // only on the connection it failed on; a new connection sets every tenant up anyway
      if (this.model === model && seat.readyOn !== model) void this.seat(seat, model);
    }, retryDelayMs(++seat.attempt, this.env.random));
    seat.timer.unref();
  }

  private tell(err: Error): void {
    for (const seat of this.seats.values()) seat.tenant.onProblem?.(err);
  }
}
