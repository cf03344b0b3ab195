// The client side of the simulated AMQP: shaped like amqplib's promise API as the runtime uses
// it, talking to a SimBroker (broker.ts) over a Wire. What amqplib does, kept here:
// - an RPC whose method the broker refuses rejects with "Operation failed: <Method>; <code> …",
//   later ones with "Channel ended, no reply will be forthcoming"; the channel emits 'error'
//   ("Channel closed by server: …") and then 'close';
// - a closing channel fails every unconfirmed publish callback with Error('channel closed')
//   before the listeners registered later hear 'close'; publish() and ack() on a closed
//   channel throw IllegalOperationError('Channel closed');
// - a dropped connection closes its channels first, then the model emits 'error' and 'close';
// - the recovering model (RecoveringCore of amqplib's recovery.js) defers its first attempt
//   to the next turn, re-runs `setup` on every new model, emits 'connect', 'connect-failed',
//   'disconnect', 'reconnect-scheduled', and passes on 'blocked'/'unblocked' — on the
//   process's timers, so a killed process stops retrying.
import { EventEmitter } from 'node:events';
import type {
  Channel,
  ChannelModel,
  ConfirmChannel,
  Connection,
  ConsumeMessage,
  GetMessage,
  Message,
  Options,
  RecoveringChannelModel,
  RecoveryOptions,
  Replies,
} from 'amqplib';
import type { Environment, TimerHandle } from '../env/environment.ts';
import { cloneValue } from './clone.ts';
import { AmqpClose, IllegalOperationError, type AmqpError } from './errors.ts';
import type { BrokerChannel, BrokerConnection, ClientChannelPort, ClientConnectionPort, SimBroker } from './broker.ts';

export type ConfirmCallback = (err: Error | null, ok: Replies.Empty) => void;

function serverOf(broker: SimBroker): Connection {
  return { serverProperties: { host: broker.host, product: 'RabbitMQ', version: '4.1.0', platform: 'miros-rabbitmq/sim', information: 'simulated' } };
}

interface PendingRpc {
  method: string;
  reject: (err: Error) => void;
}

/** A channel (with or without confirms) on a simulated connection. */
export class SimChannel extends EventEmitter implements ConfirmChannel, ClientChannelPort {
  readonly connection: Connection;
  closed = false;
  private remote: BrokerChannel | undefined;
  private readonly pending: PendingRpc[] = [];
  private readonly unconfirmed = new Map<number, ConfirmCallback | undefined>();
  private readonly consumers = new Map<string, (msg: ConsumeMessage | null) => void>();
  private publishSeq = 0;
  private full = false;

  constructor(
    private readonly model: SimChannelModel,
    readonly id: number,
    readonly confirms: boolean,
  ) {
    super();
    this.connection = model.connection;
    // amqplib's own close listener, registered first: every unconfirmed publish fails
    this.on('close', () => {
      const err = new Error('channel closed');
      const callbacks = [...this.unconfirmed.values()];
      this.unconfirmed.clear();
      for (const cb of callbacks) cb?.(err, {});
    });
  }

  /** Opens the channel on the broker (channel.open, then confirm.select). */
  async open(): Promise<this> {
    await this.call('ChannelOpen', () => undefined, true);
    if (this.confirms) await this.call('ConfirmSelect', (b) => this.model.broker.confirmSelect(b));
    return this;
  }

  // ---- from the broker (ClientChannelPort) ------------------------------------------

  onDeliver(message: ConsumeMessage): void {
    if (this.closed) return;
    const callback = this.consumers.get(message.fields.consumerTag);
    this.emit('delivery', message);
    callback?.(message);
  }

  onConfirm(seq: number, multiple: boolean, ack: boolean): void {
    if (this.closed) return;
    this.emit(ack ? 'ack' : 'nack', { deliveryTag: seq, multiple, ...(ack ? {} : { requeue: false }) });
    const tags = multiple ? [...this.unconfirmed.keys()].filter((t) => t <= seq) : [seq];
    for (const tag of tags) {
      if (!this.unconfirmed.has(tag)) continue;
      const cb = this.unconfirmed.get(tag);
      this.unconfirmed.delete(tag);
      cb?.(ack ? null : new Error('message nacked'), {});
    }
  }

  onCancel(consumerTag: string): void {
    if (this.closed) return;
    const callback = this.consumers.get(consumerTag);
    this.consumers.delete(consumerTag);
    this.emit('cancel', { consumerTag });
    callback?.(null);
  }

  onServerClose(reason: AmqpClose): void {
    if (this.closed) return;
    const first = this.pending.shift();
    if (first) {
      const err: AmqpError = new Error(`Operation failed: ${first.method}; ${reason.message}`);
      err.code = reason.code;
      first.reject(err);
    }
    const error: AmqpError = new Error(`Channel closed by server: ${reason.message}`);
    error.code = reason.code;
    this.emit('error', error);
    this.toClosed();
  }

  /** The channel is gone (its connection went, or the broker closed it). */
  toClosed(): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.pending.splice(0)) p.reject(new Error('Channel ended, no reply will be forthcoming'));
    this.model.released(this);
    this.emit('close');
  }

  // ---- the amqplib surface ------------------------------------------------------------

  publish(exchange: string, routingKey: string, content: Buffer, options?: Options.Publish, callback?: ConfirmCallback): boolean {
    this.assertOpen();
    // flow control (issue 30.2): a publish after the broker's connection.blocked reached us, before its unblocked
    if (this.model.blockedHeard) this.model.flow.publishedWhileBlocked++;
    if (this.confirms) this.unconfirmed.set(++this.publishSeq, callback);
    const body = Buffer.from(content); // amqplib encodes at once: later changes to `content` do not travel
    const copy = options ? cloneValue(options) : undefined;
    const ok = this.model.wire.toBroker(() => {
      if (this.remote) this.model.broker.publish(this.remote, exchange, routingKey, body, copy);
    });
    if (!ok && !this.full) {
      this.full = true;
      this.model.whenDrained(() => {
        this.full = false;
        if (!this.closed) this.emit('drain');
      });
    }
    return ok;
  }

  sendToQueue(queue: string, content: Buffer, options?: Options.Publish, callback?: ConfirmCallback): boolean {
    return this.publish('', queue, content, options, callback);
  }

  ack(message: Message, allUpTo = false): void {
    this.settle(message.fields.deliveryTag, allUpTo, undefined);
  }

  ackAll(): void {
    this.settle(0, true, undefined);
  }

  nack(message: Message, allUpTo = false, requeue = true): void {
    this.settle(message.fields.deliveryTag, allUpTo, requeue);
  }

  nackAll(requeue = true): void {
    this.settle(0, true, requeue);
  }

  reject(message: Message, requeue = true): void {
    this.settle(message.fields.deliveryTag, false, requeue);
  }

  async consume(queue: string, onMessage: (msg: ConsumeMessage | null) => void, options?: Options.Consume): Promise<Replies.Consume> {
    const copy = options ? { ...options } : undefined;
    const reply = await this.call('BasicConsume', (b) => {
      const r = this.model.broker.consume(b, queue, copy);
      // registered as the reply is sent, before any delivery can arrive (amqplib registers synchronously on the reply)
      this.consumers.set(r.consumerTag, onMessage);
      return r;
    });
    return reply;
  }

  async cancel(consumerTag: string): Promise<Replies.Cancel> {
    const reply = await this.call('BasicCancel', (b) => this.model.broker.cancel(b, consumerTag));
    this.consumers.delete(consumerTag);
    return reply;
  }

  async prefetch(count: number, _global?: boolean): Promise<Replies.Empty> {
    await this.call('BasicQos', (b) => this.model.broker.qos(b, count));
    return {};
  }

  async assertExchange(exchange: string, type: string, options?: Options.AssertExchange): Promise<Replies.AssertExchange> {
    const copy = options ? { ...options } : undefined;
    await this.call('ExchangeDeclare', (b) => this.model.broker.declareExchange(b, exchange, type, copy));
    return { exchange };
  }

  async checkExchange(exchange: string): Promise<Replies.Empty> {
    await this.call('ExchangeDeclare', (b) => {
      if (this.model.broker.exchangeType(exchange) === undefined) throw new AmqpClose('NOT_FOUND', `no exchange '${exchange}' in vhost '/'`);
    });
    return {};
  }

  async assertQueue(queue = '', options?: Options.AssertQueue): Promise<Replies.AssertQueue> {
    const copy = options ? cloneValue(options) : undefined;
    return this.call('QueueDeclare', (b) => this.model.broker.declareQueue(b, queue, copy));
  }

  async checkQueue(queue: string): Promise<Replies.AssertQueue> {
    return this.call('QueueDeclare', (b) => this.model.broker.checkQueue(b, queue));
  }

  async bindQueue(queue: string, source: string, pattern: string): Promise<Replies.Empty> {
    await this.call('QueueBind', (b) => this.model.broker.bindQueue(b, queue, source, pattern));
    return {};
  }

  async unbindQueue(queue: string, source: string, pattern: string): Promise<Replies.Empty> {
    await this.call('QueueUnbind', (b) => this.model.broker.unbindQueue(b, queue, source, pattern));
    return {};
  }

  async deleteQueue(queue: string, options?: Options.DeleteQueue): Promise<Replies.DeleteQueue> {
    const copy = options ? { ...options } : undefined;
    return this.call('QueueDelete', (b) => this.model.broker.deleteQueue(b, queue, copy));
  }

  async purgeQueue(queue: string): Promise<Replies.PurgeQueue> {
    return this.call('QueuePurge', (b) => this.model.broker.purgeQueue(b, queue));
  }

  async close(): Promise<void> {
    this.assertOpen();
    await this.call('ChannelClose', (b) => this.model.broker.closeChannel(b));
    this.toClosed();
  }

  async waitForConfirms(): Promise<void> {
    const waits = [...this.unconfirmed.keys()].map(
      (tag) =>
        new Promise<void>((resolve, reject) => {
          const cb = this.unconfirmed.get(tag);
          this.unconfirmed.set(tag, (err, ok) => {
            cb?.(err, ok);
            if (err) reject(err);
            else resolve();
          });
        }),
    );
    await Promise.all(waits);
  }

  async get(): Promise<GetMessage | false> {
    throw notSimulated('get');
  }
  async recover(): Promise<Replies.Empty> {
    throw notSimulated('recover');
  }
  async deleteExchange(exchange: string): Promise<Replies.Empty> {
    await this.call('ExchangeDelete', (b) => this.model.broker.deleteExchange(b, exchange));
    return {};
  }
  async bindExchange(): Promise<Replies.Empty> {
    throw notSimulated('bindExchange');
  }
  async unbindExchange(): Promise<Replies.Empty> {
    throw notSimulated('unbindExchange');
  }

  // ---- internals ----------------------------------------------------------------------

  private assertOpen(): void {
    if (this.closed) throw new IllegalOperationError('Channel closed');
  }

  private settle(deliveryTag: number, multiple: boolean, requeue: boolean | undefined): void {
    this.assertOpen();
    this.model.wire.toBroker(() => {
      if (this.remote) this.model.broker.settle(this.remote, deliveryTag, multiple, requeue);
    });
  }

  /**
   * One RPC: the request travels to the broker, which runs `op` on its side of the channel;
   * the reply (or the channel's close, when `op` throws AmqpClose) travels back.
   */
  private call<T>(method: string, op: (remote: BrokerChannel) => T, opening = false): Promise<T> {
    if (this.closed) return Promise.reject(new IllegalOperationError('Channel closed'));
    const broker = this.model.broker;
    return new Promise<T>((resolve, reject) => {
      const entry: PendingRpc = { method, reject };
      this.pending.push(entry);
      const sent = () => {
        if (opening) {
          try {
            this.remote = broker.openChannel(this.model.remote, this.id, this);
          } catch (err) {
            if (!(err instanceof AmqpClose)) throw err;
            this.model.wire.toClient(() => this.onServerClose(err));
            return;
          }
        }
        const remote = this.remote;
        if (!remote || !remote.open) return; // a frame on a closed channel: the broker ignores it
        let result: T;
        try {
          result = op(remote);
        } catch (err) {
          if (!(err instanceof AmqpClose)) throw err;
          broker.closeChannel(remote, err);
          return;
        }
        this.model.wire.toClient(() => {
          const i = this.pending.indexOf(entry);
          if (i < 0) return;
          this.pending.splice(i, 1);
          resolve(result);
        });
      };
      this.model.wire.toBroker(sent);
    });
  }
}

function notSimulated(what: string): Error {
  return new Error(`miros-rabbitmq/sim: ${what} is not simulated`);
}

/** What a process did against the broker's flow control (the checker reads it: issue 30.2). */
export interface SimFlowCounters {
  /** Messages published on a connection after its broker's connection.blocked reached the process, before the unblocked. */
  publishedWhileBlocked: number;
  /** Channels opened on such a connection (a stalled confirm channel replaced while blocked). */
  channelsOpenedWhileBlocked: number;
}

/** One simulated AMQP connection (amqplib's ChannelModel). */
export class SimChannelModel extends EventEmitter implements ChannelModel, ClientConnectionPort {
  readonly connection: Connection;
  closed = false;
  /** The broker's connection.blocked has reached this end, and its unblocked not yet. */
  blockedHeard = false;
  private readonly channels = new Set<SimChannel>();
  private nextChannel = 1;
  private drainWaiters: Array<() => void> = [];

  constructor(
    readonly broker: SimBroker,
    readonly remote: BrokerConnection,
    /** Told when the model is gone, by whatever cause (the process drops its record of it). */
    private readonly onGone: (model: SimChannelModel) => void,
    /** The process's flow-control counters (shared by its connections). */
    readonly flow: SimFlowCounters = { publishedWhileBlocked: 0, channelsOpenedWhileBlocked: 0 },
  ) {
    super();
    this.connection = serverOf(broker);
  }

  get wire() {
    return this.remote.wire;
  }

  async createChannel(): Promise<Channel> {
    return this.openChannel(false);
  }

  async createConfirmChannel(): Promise<ConfirmChannel> {
    return this.openChannel(true);
  }

  async close(): Promise<void> {
    if (this.closed) throw new IllegalOperationError('Connection closed');
    // connection.close travels to the broker, close-ok back (or the connection drops meanwhile)
    await new Promise<void>((resolve) => {
      this.once('close', () => resolve());
      this.wire.toBroker(() => {
        this.broker.closeConnection(this.remote);
        this.remote.wire.hangUp(() => this.toClosed(undefined));
      });
    });
  }

  async updateSecret(): Promise<void> {
    throw notSimulated('updateSecret');
  }

  // ---- from the broker (ClientConnectionPort) ----------------------------------------

  onBlocked(reason: string): void {
    if (this.closed) return;
    this.blockedHeard = true;
    this.emit('blocked', reason);
  }

  onUnblocked(): void {
    if (this.closed) return;
    this.blockedHeard = false;
    this.emit('unblocked');
  }

  onDropped(err: Error): void {
    if (this.closed) return;
    // still in the handshake (nobody has the model yet): the dial fails instead (world.ts), as amqplib's connect() rejects
    if (this.listenerCount('error') > 0) this.emit('error', err);
    this.toClosed(err);
  }

  /** The process holding it died: the socket goes, nobody hears of it at this end. */
  abort(): void {
    if (this.closed) return;
    this.closed = true;
    const wire = this.remote.wire;
    wire.up = false;
    this.onGone(this);
  }

  /** Called back once the frames now in flight to the broker have arrived (the write buffer drained). */
  whenDrained(fn: () => void): void {
    this.drainWaiters.push(fn);
    this.wire.toBroker(() => {
      const waiters = this.drainWaiters.splice(0);
      this.wire.toClient(() => {
        for (const w of waiters) w();
      });
    });
  }

  released(channel: SimChannel): void {
    this.channels.delete(channel);
  }

  private toClosed(err: Error | undefined): void {
    if (this.closed) return;
    this.closed = true;
    for (const channel of [...this.channels]) channel.toClosed();
    this.onGone(this);
    this.emit('close', err);
  }

  private async openChannel(confirms: boolean): Promise<SimChannel> {
    if (this.closed) throw new IllegalOperationError('Connection closed');
    if (this.blockedHeard) this.flow.channelsOpenedWhileBlocked++;
    const channel = new SimChannel(this, this.nextChannel++, confirms);
    this.channels.add(channel);
    return channel.open();
  }
}

interface Waiter {
  resolve: (model: ChannelModel) => void;
  reject: (err: Error) => void;
}

type Setup = (model: ChannelModel) => unknown;

/**
 * amqplib's recovering connection (recovery.js RecoveringCore), on the process's timers:
 * reconnects after a drop with the delays the caller passes, re-running `setup` each time.
 */
export class SimRecoveringModel extends EventEmitter implements RecoveringChannelModel {
  private model: SimChannelModel | undefined;
  private stopped = false;
  private connecting = false;
  private connectedOnce = false;
  private attempt = 0;
  private timer: TimerHandle | undefined;
  private failure: Error | undefined;
  private waiters: Waiter[] = [];
  private readonly initial: Promise<this>;
  private initialSettled = false;
  private resolveInitial: () => void = () => undefined;
  private rejectInitial: (err: Error) => void = () => undefined;
  private readonly recovery: Required<Pick<RecoveryOptions, 'initialDelay' | 'maxDelay' | 'factor' | 'jitter' | 'maxRetries'>> & {
    initialMaxRetries: number;
    setup: Setup | undefined;
    calculateDelay: ((attempt: number) => number) | undefined;
  };

  constructor(
    private readonly openModel: () => Promise<SimChannelModel>,
    recovery: RecoveryOptions | true,
    private readonly env: Environment,
  ) {
    super();
    const r: RecoveryOptions = recovery === true ? {} : recovery;
    const initialDelay = Math.max(0, r.initialDelay ?? 100);
    const maxRetries = r.maxRetries ?? Infinity;
    this.recovery = {
      initialDelay,
      maxDelay: Math.max(initialDelay, r.maxDelay ?? 30_000),
      factor: Math.max(1, r.factor ?? 2),
      jitter: Math.min(1, Math.max(0, r.jitter ?? 0.2)),
      maxRetries,
      initialMaxRetries: r.initialMaxRetries ?? maxRetries,
      setup: typeof r.setup === 'function' ? (r.setup as Setup) : undefined,
      calculateDelay: r.calculateDelay,
    };
    this.initial = new Promise<this>((resolve, reject) => {
      this.resolveInitial = () => resolve(this);
      this.rejectInitial = reject;
    });
    this.initial.catch(() => undefined);
    // the first attempt waits a turn, so that listeners can be attached first
    env.setImmediate(() => void this.connect());
  }

  waitForConnect(): Promise<this> {
    return this.initial;
  }

  async close(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.env.clearTimeout(this.timer);
    this.timer = undefined;
    const err = new Error('Connection closed');
    for (const w of this.waiters.splice(0)) w.reject(err);
    this.settleInitial(err);
    const model = this.model;
    this.model = undefined;
    if (model) await model.close().catch(() => undefined);
  }

  async createChannel(): Promise<Channel> {
    return (await this.waitForModel()).createChannel();
  }

  async createConfirmChannel(): Promise<ConfirmChannel> {
    return (await this.waitForModel()).createConfirmChannel();
  }

  async updateSecret(): Promise<void> {
    throw notSimulated('updateSecret');
  }

  private waitForModel(): Promise<ChannelModel> {
    if (this.model) return Promise.resolve(this.model);
    if (this.stopped) return Promise.reject(this.failure ?? new Error('Connection closed'));
    return new Promise<ChannelModel>((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  private settleInitial(err?: Error): void {
    if (this.initialSettled) return;
    this.initialSettled = true;
    if (err) this.rejectInitial(err);
    else this.resolveInitial();
  }

  private async connect(): Promise<void> {
    if (this.stopped || this.connecting) return;
    this.connecting = true;
    let model: SimChannelModel | undefined;
    try {
      model = await this.openModel();
      if (!this.stopped && this.recovery.setup) await this.recovery.setup(model);
      if (this.stopped) {
        await model.close().catch(() => undefined);
        return;
      }
      this.model = model;
      this.attempt = 0;
      this.connectedOnce = true;
      this.bind(model);
      this.settleInitial();
      for (const w of this.waiters.splice(0)) w.resolve(model);
      this.emit('connect', model);
    } catch (caught) {
      const error = caught instanceof Error ? caught : new Error(caught ? String(caught) : 'Connection recovery failed');
      if (model) await model.close().catch(() => undefined);
      this.emit('connect-failed', error);
      this.scheduleReconnect(error);
    } finally {
      this.connecting = false;
    }
  }

  private bind(model: SimChannelModel): void {
    model.on('close', (maybeErr?: Error) => {
      if (this.model !== model) return;
      this.model = undefined;
      if (this.stopped) return;
      const err = maybeErr ?? new Error('Connection closed');
      this.emit('disconnect', err);
      this.scheduleReconnect(err);
    });
    model.on('blocked', (reason: string) => this.emit('blocked', reason));
    model.on('unblocked', () => this.emit('unblocked'));
    model.on('error', (err: Error) => {
      if (this.model === model) this.emit('error', err);
    });
  }

  private scheduleReconnect(err: Error): void {
    if (this.stopped || this.timer !== undefined) return;
    const maxRetries = this.connectedOnce ? this.recovery.maxRetries : this.recovery.initialMaxRetries;
    if (this.attempt >= maxRetries) return this.abandon(err);
    const attempt = this.attempt + 1;
    let delay: number;
    try {
      delay = this.delay(attempt);
    } catch (delayErr) {
      return this.abandon(delayErr instanceof Error ? delayErr : new Error('calculateDelay failed'));
    }
    this.attempt = attempt;
    this.emit('reconnect-scheduled', { attempt, delay, error: err });
    this.timer = this.env.setTimeout(() => {
      this.timer = undefined;
      void this.connect();
    }, delay);
  }

  private delay(attempt: number): number {
    const r = this.recovery;
    if (r.calculateDelay) {
      const custom = r.calculateDelay(attempt);
      if (typeof custom === 'number' && Number.isFinite(custom) && custom >= 0) return Math.round(custom);
      throw new Error(`calculateDelay must return a finite, non-negative number of milliseconds (got ${String(custom)})`);
    }
    const cappedBase = r.maxDelay / (1 + r.jitter);
    const base = Math.min(cappedBase, r.initialDelay * r.factor ** (attempt - 1));
    const jitterPart = base * r.jitter;
    const offset = jitterPart > 0 ? this.env.random() * jitterPart * 2 - jitterPart : 0;
    return Math.max(0, Math.round(base + offset));
  }

  private abandon(err: Error): void {
    this.stopped = true;
    this.failure = err;
    this.settleInitial(err);
    for (const w of this.waiters.splice(0)) w.reject(err);
    this.emit('reconnect-failed', err);
  }
}

