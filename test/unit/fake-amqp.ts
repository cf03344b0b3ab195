// An in-memory stand-in for the part of amqplib that runtime/net uses: a recovering
// connection (FakeConnection, what openRecovering returns), its per-connection models
// (FakeChannelModel) and their channels (FakeChannel, a ConfirmChannel or a plain one).
//
// The test plays the broker: it confirms or nacks publishes (or holds them), hands
// consumers messages, fills and drains the write buffer, and drops channels or whole
// connections. Where it matters, the fake keeps amqplib's ordering:
// - a closing channel first fails every unconfirmed publish callback with
//   Error('channel closed') (amqplib's own 'close' listener, registered in the channel's
//   constructor), then the listeners registered later hear 'close';
// - publish() and ack() on a closed channel throw;
// - a dropped connection closes its channels first, then the recovering connection emits
//   'disconnect'; a reconnect runs `setup` on a new model before it emits 'connect'.
//
// Use it in place of runtime/net/connection.ts:
//   vi.mock('../../runtime/net/connection.ts', async (importOriginal) => ({
//     ...(await importOriginal<typeof import('../../runtime/net/connection.ts')>()),
//     openRecovering: (await import('./fake-amqp.ts')).fakeOpenRecovering,
//   }));
// and, for a chart whose discovery lists fixed hosts, runtime/lan/index.ts by fakeLan:
//   vi.mock('../../runtime/lan/index.ts', async () => (await import('./fake-amqp.ts')).fakeLan(() => ['127.0.0.1']));
import { EventEmitter } from 'node:events';
import type {
  ChannelModel,
  ConfirmChannel,
  Connection,
  ConsumeMessage,
  GetMessage,
  Message,
  MessageProperties,
  MessagePropertyHeaders,
  Options,
  RecoveringChannelModel,
  Replies,
} from 'amqplib';
import type { Discovery } from '../../runtime/lan/index.ts';
import type { ChartPort } from '../../runtime/net/miros-nets.ts';
import type { OpenOptions } from '../../runtime/net/connection.ts';
import { MemberRotation } from '../../runtime/net/members.ts';

export type ConfirmCallback = (err: unknown, ok: Replies.Empty) => void;
export type Setup = (model: ChannelModel) => Promise<void>;

export interface PublishRecord {
  /** The publish's sequence number on its channel (the tag the broker confirms), from 1. */
  tag: number;
  exchange: string;
  routingKey: string;
  content: Buffer;
  options: Options.Publish | undefined;
  /** 'pending' until confirmed; 'closed' if the channel died first; 'unconfirmed' on a plain channel. */
  state: 'pending' | 'acked' | 'nacked' | 'closed' | 'unconfirmed';
}

export interface ConsumerRecord {
  queue: string;
  consumerTag: string;
  options: Options.Consume | undefined;
  onMessage: (msg: ConsumeMessage | null) => void;
}

export interface AckRecord {
  deliveryTag: number;
  allUpTo: boolean;
}

export interface DeliveryInit {
  headers?: MessagePropertyHeaders;
  redelivered?: boolean;
  exchange?: string;
  routingKey?: string;
  /** Further message properties (a broker passes on the publisher's). */
  properties?: Partial<MessageProperties>;
}

/**
 * A broker behind the fake channels (fake-world.ts): told about what the runtime does on a
 * channel, it routes publishes, confirms them, and hands consumers their messages through
 * deliver(). Without one, the test plays the broker by hand.
 */
export interface BrokerPort {
  declareExchange(channel: FakeChannel, name: string, type: string): void;
  declareQueue(channel: FakeChannel, name: string, options: Options.AssertQueue | undefined): number;
  bind(channel: FakeChannel, queue: string, exchange: string, pattern: string): void;
  deleteQueue(channel: FakeChannel, name: string): number;
  published(channel: FakeChannel, record: PublishRecord): void;
  consuming(channel: FakeChannel, consumer: ConsumerRecord): void;
  settled(channel: FakeChannel, deliveryTag: number, allUpTo: boolean, requeue: boolean | 'ack'): void;
  channelClosed(channel: FakeChannel): void;
}

const SERVER: Connection = {
  serverProperties: { host: 'fake', product: 'RabbitMQ', version: '4.1.0', platform: 'fake-amqp', information: 'in memory' },
};

const notFaked = (what: string): Error => new Error(`fake-amqp: ${what} is not faked`);

let channelIds = 0;

export class FakeChannel extends EventEmitter implements ConfirmChannel {
  readonly id = ++channelIds;
  readonly connection = SERVER;
  readonly published: PublishRecord[] = [];
  readonly consumers: ConsumerRecord[] = [];
  /** Every ack() call, in order. */
  readonly acks: AckRecord[] = [];
  readonly nacks: Array<AckRecord & { requeue: boolean }> = [];
  readonly exchanges = new Map<string, { type: string; options: Options.AssertExchange | undefined }>();
  readonly queues = new Map<string, Options.AssertQueue | undefined>();
  readonly bindings: Array<{ queue: string; exchange: string; pattern: string }> = [];
  readonly deletedQueues: Array<{ queue: string; options: Options.DeleteQueue | undefined }> = [];
  /**
   * Protocol errors a real broker would close the channel for (406 PRECONDITION_FAILED), e.g.
   * an ack of a delivery tag that is unknown or already acked. Tests expect it to stay empty.
   */
  readonly violations: string[] = [];
  prefetchCount: number | undefined;
  closed = false;
  /** While true, publish() still takes messages but returns false (write buffer full) until drain(). */
  full = false;
  private readonly callbacks = new Map<number, ConfirmCallback | undefined>();
  private readonly outstanding = new Set<number>();
  private nextDeliveryTag = 1;

  constructor(
    readonly confirms: boolean,
    readonly broker?: BrokerPort,
  ) {
    super();
    // amqplib's own close listener, registered first: every unconfirmed publish fails.
    this.on('close', () => {
      const err = new Error('channel closed');
      for (const record of this.published) {
        if (record.state !== 'pending') continue;
        record.state = 'closed';
        const callback = this.callbacks.get(record.tag);
        this.callbacks.delete(record.tag);
        callback?.(err, {});
      }
    });
  }

  // ---- the test's side (the broker) ---------------------------------------------------

  /** Publishes not confirmed (nor nacked) yet. */
  get pending(): PublishRecord[] {
    return this.published.filter((r) => r.state === 'pending');
  }

  /** Bodies of everything published on this channel, as text, in order. */
  get bodies(): string[] {
    return this.published.map((r) => r.content.toString());
  }

  /** The broker confirms publish `tag`; with multiple, every pending one up to it. */
  confirm(tag: number, multiple = false): void {
    this.settle(tag, multiple, 'acked', null);
  }

  /** The broker nacks publish `tag` (amqplib calls back with Error('message nacked')). */
  nackPublish(tag: number, multiple = false): void {
    this.settle(tag, multiple, 'nacked', new Error('message nacked'));
  }

  /** Confirms every pending publish. */
  confirmAll(): void {
    const last = this.pending.at(-1);
    if (last) this.confirm(last.tag, true);
  }

  /** The write buffer empties: publish() returns true again and 'drain' is emitted. */
  drain(): void {
    this.full = false;
    this.emit('drain');
  }

  /** The channel dies (the broker closed it, or its connection went). */
  lose(): void {
    if (this.closed) return;
    this.closed = true;
    this.emit('close');
    this.broker?.channelClosed(this);
  }

  /**
   * The broker cancels the consumer of `queue` (the queue was deleted: by an operator, by
   * another process leaving, by a node going away): the queue is gone, and amqplib hands
   * the consumer's callback null. The channel stays open.
   */
  cancelConsumer(queue: string): void {
    this.assertOpen('cancelConsumer');
    const i = this.consumers.findIndex((c) => c.queue === queue);
    if (i < 0) throw new Error(`fake-amqp: nobody consumes ${queue} on channel ${this.id}`);
    const [consumer] = this.consumers.splice(i, 1);
    this.queues.delete(queue);
    consumer.onMessage(null);
  }

  /** The broker hands the consumer of `queue` a message with this channel's next delivery tag. */
  deliver(queue: string, content: Buffer, init: DeliveryInit = {}): ConsumeMessage {
    this.assertOpen('deliver');
    const consumer = this.consumers.find((c) => c.queue === queue);
    if (!consumer) throw new Error(`fake-amqp: nobody consumes ${queue} on channel ${this.id}`);
    const message: ConsumeMessage = {
      content,
      fields: {
        deliveryTag: this.nextDeliveryTag++,
        redelivered: init.redelivered ?? false,
        exchange: init.exchange ?? '',
        routingKey: init.routingKey ?? '',
        consumerTag: consumer.consumerTag,
      },
      properties: {
        contentType: 'application/octet-stream',
        contentEncoding: undefined,
        headers: init.headers,
        deliveryMode: undefined,
        priority: undefined,
        correlationId: undefined,
        replyTo: undefined,
        expiration: undefined,
        messageId: undefined,
        timestamp: undefined,
        type: undefined,
        userId: undefined,
        appId: undefined,
        clusterId: undefined,
        ...init.properties,
      },
    };
    this.outstanding.add(message.fields.deliveryTag);
    consumer.onMessage(message);
    return message;
  }

  /** Delivery tags handed out and neither acked nor nacked yet, ascending. */
  get unacked(): number[] {
    return [...this.outstanding].sort((a, b) => a - b);
  }

  private settle(tag: number, multiple: boolean, state: 'acked' | 'nacked', err: Error | null): void {
    const targets = multiple ? this.pending.filter((r) => r.tag <= tag) : this.pending.filter((r) => r.tag === tag);
    if (targets.length === 0) throw new Error(`fake-amqp: no pending publish ${tag} on channel ${this.id}`);
    for (const record of targets) {
      record.state = state;
      const callback = this.callbacks.get(record.tag);
      this.callbacks.delete(record.tag);
      callback?.(err, {});
    }
  }

  private release(tag: number, allUpTo: boolean, what: string): void {
    if (!this.outstanding.has(tag)) this.violations.push(`${what} of unknown delivery tag ${tag}`);
    if (!allUpTo) this.outstanding.delete(tag);
    else for (const t of [...this.outstanding]) if (t <= tag) this.outstanding.delete(t);
  }

  private assertOpen(what: string): void {
    // amqplib throws IllegalOperationError('Channel closed') once the channel is closed
    if (this.closed) throw new Error(`Channel closed (${what} on fake channel ${this.id})`);
  }

  // ---- the amqplib surface ------------------------------------------------------------

  publish(exchange: string, routingKey: string, content: Buffer, options?: Options.Publish, callback?: ConfirmCallback): boolean {
    this.assertOpen('publish');
    const tag = this.published.length + 1;
    this.published.push({ tag, exchange, routingKey, content, options, state: this.confirms ? 'pending' : 'unconfirmed' });
    if (this.confirms) this.callbacks.set(tag, callback);
    this.broker?.published(this, this.published[tag - 1]);
    return !this.full;
  }

  ack(message: Message, allUpTo = false): void {
    this.assertOpen('ack');
    this.acks.push({ deliveryTag: message.fields.deliveryTag, allUpTo });
    this.release(message.fields.deliveryTag, allUpTo, 'ack');
    this.broker?.settled(this, message.fields.deliveryTag, allUpTo, 'ack');
  }

  nack(message: Message, allUpTo = false, requeue = true): void {
    this.assertOpen('nack');
    this.nacks.push({ deliveryTag: message.fields.deliveryTag, allUpTo, requeue });
    this.release(message.fields.deliveryTag, allUpTo, 'nack');
    this.broker?.settled(this, message.fields.deliveryTag, allUpTo, requeue);
  }

  async consume(queue: string, onMessage: (msg: ConsumeMessage | null) => void, options?: Options.Consume): Promise<Replies.Consume> {
    this.assertOpen('consume');
    const consumerTag = options?.consumerTag ?? `amq.ctag-${this.id}-${this.consumers.length + 1}`;
    const consumer = { queue, consumerTag, options, onMessage };
    this.consumers.push(consumer);
    this.broker?.consuming(this, consumer);
    return { consumerTag };
  }

  async prefetch(count: number): Promise<Replies.Empty> {
    this.assertOpen('prefetch');
    this.prefetchCount = count;
    return {};
  }

  async assertExchange(exchange: string, type: string, options?: Options.AssertExchange): Promise<Replies.AssertExchange> {
    this.assertOpen('assertExchange');
    this.exchanges.set(exchange, { type, options });
    this.broker?.declareExchange(this, exchange, type);
    return { exchange };
  }

  async assertQueue(queue = `amq.gen-${this.id}`, options?: Options.AssertQueue): Promise<Replies.AssertQueue> {
    this.assertOpen('assertQueue');
    this.queues.set(queue, options);
    const messageCount = this.broker?.declareQueue(this, queue, options) ?? 0;
    return { queue, messageCount, consumerCount: 0 };
  }

  async bindQueue(queue: string, source: string, pattern: string): Promise<Replies.Empty> {
    this.assertOpen('bindQueue');
    this.bindings.push({ queue, exchange: source, pattern });
    this.broker?.bind(this, queue, source, pattern);
    return {};
  }

  async deleteQueue(queue: string, options?: Options.DeleteQueue): Promise<Replies.DeleteQueue> {
    this.assertOpen('deleteQueue');
    this.deletedQueues.push({ queue, options });
    return { messageCount: this.broker?.deleteQueue(this, queue) ?? 0 };
  }

  async close(): Promise<void> {
    this.assertOpen('close');
    this.lose();
  }

  async waitForConfirms(): Promise<void> {
    throw notFaked('waitForConfirms');
  }
  async checkQueue(): Promise<Replies.AssertQueue> {
    throw notFaked('checkQueue');
  }
  async purgeQueue(): Promise<Replies.PurgeQueue> {
    throw notFaked('purgeQueue');
  }
  async unbindQueue(): Promise<Replies.Empty> {
    throw notFaked('unbindQueue');
  }
  async checkExchange(): Promise<Replies.Empty> {
    throw notFaked('checkExchange');
  }
  async deleteExchange(): Promise<Replies.Empty> {
    throw notFaked('deleteExchange');
  }
  async bindExchange(): Promise<Replies.Empty> {
    throw notFaked('bindExchange');
  }
  async unbindExchange(): Promise<Replies.Empty> {
    throw notFaked('unbindExchange');
  }
  async cancel(): Promise<Replies.Cancel> {
    throw notFaked('cancel');
  }
  async get(): Promise<GetMessage | false> {
    throw notFaked('get');
  }
  async recover(): Promise<Replies.Empty> {
    throw notFaked('recover');
  }
  sendToQueue(): boolean {
    throw notFaked('sendToQueue');
  }
  ackAll(): void {
    throw notFaked('ackAll');
  }
  nackAll(): void {
    throw notFaked('nackAll');
  }
  reject(): void {
    throw notFaked('reject');
  }
}

/** One AMQP connection of a FakeConnection: its channels die with it. */
export class FakeChannelModel extends EventEmitter implements ChannelModel {
  readonly connection = SERVER;
  readonly channels: FakeChannel[] = [];
  closed = false;

  constructor(readonly broker?: BrokerPort) {
    super();
  }

  /** The channel with a consumer on `queue` (the receiver's), or the one with confirms (a link's). */
  channel(which: { consuming: string } | 'confirm'): FakeChannel {
    const found =
      which === 'confirm'
        ? this.channels.find((c) => c.confirms && !c.closed)
        : this.channels.find((c) => !c.closed && c.consumers.some((k) => k.queue === which.consuming));
    if (!found) throw new Error(`fake-amqp: no open channel ${which === 'confirm' ? 'with confirms' : `consuming ${which.consuming}`}`);
    return found;
  }

  async createChannel(): Promise<FakeChannel> {
    return this.open(false);
  }

  async createConfirmChannel(): Promise<FakeChannel> {
    return this.open(true);
  }

  /** The connection dies: its channels close first, then the model emits 'close' (amqplib's order). */
  drop(err?: Error): void {
    if (this.closed) return;
    this.closed = true;
    for (const channel of this.channels) channel.lose();
    this.emit('close', err);
  }

  async close(): Promise<void> {
    this.drop();
  }

  async updateSecret(): Promise<void> {
    throw notFaked('updateSecret');
  }

  private open(confirms: boolean): FakeChannel {
    if (this.closed) throw new Error('Connection closed');
    const channel = new FakeChannel(confirms, this.broker);
    this.channels.push(channel);
    return channel;
  }
}

/** What openRecovering returns: reconnects only when the test says so (connect()). */
export class FakeConnection extends EventEmitter implements RecoveringChannelModel {
  readonly models: FakeChannelModel[] = [];
  current: FakeChannelModel | undefined;
  closed = false;
  /** The broker the next (re)connection's channels talk to (fake-world.ts); none: the test plays it. */
  broker: BrokerPort | undefined;
  private readonly first: Promise<this>;
  private resolveFirst: (self: this) => void = () => undefined;
  private rejectFirst: (err: Error) => void = () => undefined;
  private waiters: Array<{ resolve: (m: FakeChannelModel) => void; reject: (err: Error) => void }> = [];

  /** The members it dials, judged as connection.ts does (a refusing member is skipped; all refusing: closed). */
  readonly rotation: MemberRotation;

  constructor(
    readonly url: string,
    readonly heartbeatSeconds: number,
    private readonly setup: Setup,
    private readonly opts: OpenOptions = {},
    urls: readonly string[] = [url],
  ) {
    super();
    this.rotation = new MemberRotation(urls);
    this.first = new Promise<this>((resolve, reject) => {
      this.resolveFirst = resolve;
      this.rejectFirst = reject;
    });
    this.first.catch(() => undefined);
  }

  /** One successful (re)connection: a new model, `setup` run on it, then 'connect' (amqplib's order). */
  async connect(): Promise<FakeChannelModel> {
    if (this.closed) throw new Error('fake-amqp: connect() on a closed connection');
    if (this.current) throw new Error('fake-amqp: connect() while connected');
    const model = new FakeChannelModel(this.broker);
    this.models.push(model);
    try {
      await this.setup(model);
    } catch (err) {
      model.drop();
      this.emit('connect-failed', err);
      throw err;
    }
    this.current = model;
    model.once('close', (err?: Error) => {
      if (this.current !== model) return;
      this.current = undefined;
      if (!this.closed) this.emit('disconnect', err ?? new Error('Connection closed'));
    });
    this.resolveFirst(this);
    for (const waiter of this.waiters.splice(0)) waiter.resolve(model);
    this.emit('connect', model);
    return model;
  }

  /** An attempt that failed (broker away): amqplib emits 'connect-failed' and schedules the next. */
  fail(err: Error = new Error('connect ECONNREFUSED')): void {
    const outcome = this.rotation.failed(err);
    if (outcome.refusedMember !== undefined) this.opts.onRefused?.(outcome.refusedMember, err, outcome.allRefused);
    if (!outcome.allRefused) {
      const url = this.rotation.advance();
      if (url !== undefined && url !== this.url) this.opts.onEndpoint?.(url);
    }
    this.emit('connect-failed', err);
    if (outcome.allRefused) void this.close();
  }

  /** The connection drops: its channels close, then 'disconnect'. */
  lose(err: Error = new Error('Connection closed: 320 (CONNECTION-FORCED)')): void {
    if (!this.current) throw new Error('fake-amqp: lose() while not connected');
    this.current.drop(err);
  }

  waitForConnect(): Promise<this> {
    return this.first;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const err = new Error('Connection closed');
    this.rejectFirst(err);
    for (const waiter of this.waiters.splice(0)) waiter.reject(err);
    const model = this.current;
    this.current = undefined;
    model?.drop();
  }

  async createChannel(): Promise<FakeChannel> {
    return (await this.model()).createChannel();
  }

  async createConfirmChannel(): Promise<FakeChannel> {
    return (await this.model()).createConfirmChannel();
  }

  async updateSecret(): Promise<void> {
    throw notFaked('updateSecret');
  }

  private model(): Promise<FakeChannelModel> {
    if (this.current) return Promise.resolve(this.current);
    if (this.closed) return Promise.reject(new Error('Connection closed'));
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }
}

/** Every connection fakeOpenRecovering made, in order; and which of them connect by themselves. */
export const fakeBrokers = {
  connections: [] as FakeConnection[],
  /** Connections whose URL this accepts connect on their own, one turn later (as amqplib defers its first attempt). */
  autoConnect: (_url: string): boolean => false,
  /** The connections to a host, in the order they were opened. */
  to(host: string): FakeConnection[] {
    return this.connections.filter((c) => new URL(c.url).hostname === host);
  },
  reset(): void {
    this.connections.length = 0;
    this.autoConnect = () => false;
  },
};

/** Stands in for runtime/net/connection.ts#openRecovering. */
export async function fakeOpenRecovering(urls: string | readonly string[], heartbeatSeconds: number, setup: Setup, opts: OpenOptions = {}): Promise<FakeConnection> {
  const list = typeof urls === 'string' ? [urls] : [...urls];
  const url = list[0];
  const connection = new FakeConnection(url, heartbeatSeconds, setup, opts, list);
  fakeBrokers.connections.push(connection);
  if (fakeBrokers.autoConnect(url)) setImmediate(() => void connection.connect().catch(() => undefined));
  return connection;
}

/**
 * Stands in for runtime/lan/index.ts: a discovery that finds this host and `hosts()` (read
 * at every discovery, so a test can change the list between rediscoveries), listed by the
 * `hosts` source, with no probe and no warning.
 */
export function fakeLan(hosts: () => readonly string[], thisAddress = '127.0.0.1'): { discoverHosts: () => Promise<Discovery> } {
  return {
    discoverHosts: async (): Promise<Discovery> => {
      const listed = [...hosts()];
      return { thisAddress, addresses: listed, otherAddresses: listed.filter((h) => h !== thisAddress), sources: { hosts: [...listed] }, probeFailures: {}, warnings: [] };
    },
  };
}

/** A chart as MirosNets sees it (ChartPort), doing nothing: for tests of the networked layer alone. */
export function idleChartPort(name = 'a1'): ChartPort {
  return {
    name,
    queue: { length: 0 },
    postFifo: () => undefined,
    scribble: () => undefined,
    liveSpy: false,
    liveTrace: false,
    registerLiveSpyCallback: () => undefined,
    registerLiveTraceCallback: () => undefined,
  };
}

/** The confirm channel of the link to `host` (the receiver's connection has none). */
export function linkChannel(host: string): FakeChannel {
  for (const connection of fakeBrokers.to(host)) {
    const model = connection.current;
    if (model?.channels.some((c) => c.confirms)) return model.channel('confirm');
  }
  throw new Error(`no link to ${host} is up`);
}
