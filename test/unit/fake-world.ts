// A small simulated world for unit tests of whole networked charts (issue 23, item 7):
// - VirtualClock: an Environment whose clock only moves when the test runs it; timers fire
//   in (virtual time, insertion number) order; randomness is seeded (mulberry32);
// - FakeBroker: one RabbitMQ node in memory: topic exchanges with bindings (`#`, `*`),
//   durable queues, consumers with prefetch and ack/nack, publisher confirms. It sits behind
//   the channels of fake-amqp.ts (BrokerPort), so there is one fake of amqplib, not two;
// - FakeWorld: the clock, a broker per host, and `environment.connect` returning recovering
//   connections (fake-amqp.ts FakeConnection) that dial those brokers and reconnect after a
//   drop with the recovery delays the runtime passes (on the virtual clock).
// No real timer, socket or randomness is used: everything waits on the virtual clock.
// The full simulation (a faithful RabbitMQ, processes, seeded streams) is runtime/sim
// (miros-rabbitmq/sim, test/unit/sim-world.test.ts); this small world stays for the tests that
// look inside its broker and channels.
import type { ConsumeMessage, Options, RecoveringChannelModel, RecoveryOptions, SocketOptions } from 'amqplib';
import type { Connect, Environment, TimerHandle } from '../../runtime/env/environment.ts';
import { FakeConnection, type BrokerPort, type ConsumerRecord, type FakeChannel, type PublishRecord } from './fake-amqp.ts';

// ---- the clock ---------------------------------------------------------------------------

interface Timer extends TimerHandle {
  at: number;
  order: number;
  fn: () => void;
  /** Repeat period (intervals), else undefined. */
  every: number | undefined;
  cancelled: boolean;
}

/** 2026-01-01T00:00:00Z: the wall clock at virtual time 0. */
export const EPOCH_MS = Date.UTC(2026, 0, 1);

export class VirtualClock {
  /** Virtual milliseconds since the world began. */
  time = 0;
  /** Timers fired so far (a measure of the work done). */
  fired = 0;
  private order = 0;
  private timers: Timer[] = [];
  private seed: number;

  constructor(seed = 1) {
    this.seed = seed >>> 0;
  }

  get pending(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }

  /** The time of the next timer due, or undefined when none is pending. */
  get nextAt(): number | undefined {
    return this.next()?.at;
  }

  schedule(fn: () => void, ms: number, every?: number): Timer {
    const delay = Number.isFinite(ms) && ms > 0 ? ms : 0;
    const timer: Timer = { at: this.time + delay, order: this.order++, fn, every, cancelled: false, unref: () => timer };
    this.timers.push(timer);
    return timer;
  }

  cancel(handle: TimerHandle | undefined): void {
    if (handle === undefined) return;
    const timer = handle as Timer;
    timer.cancelled = true;
    this.timers = this.timers.filter((t) => t !== timer);
  }

  /** Runs the earliest due timer (moving the clock to it); false when none is pending. */
  fireNext(): boolean {
    const timer = this.next();
    if (!timer) return false;
    this.timers = this.timers.filter((t) => t !== timer);
    this.time = Math.max(this.time, timer.at);
    if (timer.every !== undefined) {
      timer.at = this.time + Math.max(1, timer.every);
      timer.order = this.order++;
      this.timers.push(timer);
    }
    this.fired++;
    timer.fn();
    return true;
  }

  /** A number in [0, 1) from the seeded generator (mulberry32). */
  random(): number {
    this.seed = (this.seed + 0x6d2b79f5) >>> 0;
    let t = this.seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  randomFill(buffer: Buffer): Buffer {
    for (let i = 0; i < buffer.length; i++) buffer[i] = Math.floor(this.random() * 256);
    return buffer;
  }

  private next(): Timer | undefined {
    let best: Timer | undefined;
    for (const t of this.timers) if (!best || t.at < best.at || (t.at === best.at && t.order < best.order)) best = t;
    return best;
  }
}

// ---- the broker --------------------------------------------------------------------------

interface StoredMessage {
  /** Publish order on this broker (requeued messages go back in this order). */
  id: number;
  exchange: string;
  routingKey: string;
  content: Buffer;
  options: Options.Publish | undefined;
  redelivered: boolean;
}

interface Consumer {
  channel: FakeChannel;
  record: ConsumerRecord;
  prefetch: number;
  unacked: Map<number, StoredMessage>;
}

interface Queue {
  name: string;
  options: Options.AssertQueue | undefined;
  ready: StoredMessage[];
  consumers: Consumer[];
  /** Round-robin position among the consumers. */
  turn: number;
}

// one topic matcher: the simulated RabbitMQ's (miros-rabbitmq/sim)
import { topicMatches } from '../../runtime/sim/broker.ts';
export { topicMatches };

export class FakeBroker implements BrokerPort {
  readonly exchanges = new Map<string, string>();
  readonly queues = new Map<string, Queue>();
  readonly bindings: Array<{ queue: string; exchange: string; pattern: string }> = [];
  /** What a real broker would have closed a channel for (unknown exchange, ...): tests expect none. */
  readonly violations: string[] = [];
  readonly stats = { published: 0, routed: 0, unroutable: 0, confirmed: 0, delivered: 0, redelivered: 0, acked: 0, requeued: 0 };
  private ids = 0;
  private dispatchScheduled = false;

  constructor(
    readonly host: string,
    private readonly clock: VirtualClock,
    /** Virtual milliseconds a confirm and a delivery take. */
    private readonly latencyMs = 1,
  ) {}

  /** The messages of `queue` not handed out yet, plus those handed out and unacked. */
  depth(queue: string): number {
    const q = this.queues.get(queue);
    return q ? q.ready.length + q.consumers.reduce((n, c) => n + c.unacked.size, 0) : 0;
  }

  declareExchange(_channel: FakeChannel, name: string, type: string): void {
    const known = this.exchanges.get(name);
    if (known !== undefined && known !== type) this.violations.push(`exchange ${name} redeclared as ${type} (was ${known})`);
    this.exchanges.set(name, type);
  }

  declareQueue(_channel: FakeChannel, name: string, options: Options.AssertQueue | undefined): number {
    let q = this.queues.get(name);
    if (!q) this.queues.set(name, (q = { name, options, ready: [], consumers: [], turn: 0 }));
    return q.ready.length;
  }

  bind(_channel: FakeChannel, queue: string, exchange: string, pattern: string): void {
    if (!this.queues.has(queue)) this.violations.push(`bind of unknown queue ${queue}`);
    if (!this.exchanges.has(exchange)) this.violations.push(`bind to unknown exchange ${exchange}`);
    if (!this.bindings.some((b) => b.queue === queue && b.exchange === exchange && b.pattern === pattern)) this.bindings.push({ queue, exchange, pattern });
  }

  deleteQueue(_channel: FakeChannel, name: string): number {
    const q = this.queues.get(name);
    if (!q) return 0;
    this.queues.delete(name);
    for (let i = this.bindings.length - 1; i >= 0; i--) if (this.bindings[i].queue === name) this.bindings.splice(i, 1);
    return q.ready.length;
  }

  published(channel: FakeChannel, record: PublishRecord): void {
    this.stats.published++;
    const targets = new Set<string>();
    if (record.exchange === '') targets.add(record.routingKey);
    else if (!this.exchanges.has(record.exchange)) this.violations.push(`publish to unknown exchange ${record.exchange}`);
    else for (const b of this.bindings) if (b.exchange === record.exchange && topicMatches(b.pattern, record.routingKey)) targets.add(b.queue);
    let routed = 0;
    for (const name of targets) {
      const q = this.queues.get(name);
      if (!q) continue;
      q.ready.push({ id: ++this.ids, exchange: record.exchange, routingKey: record.routingKey, content: record.content, options: record.options, redelivered: false });
      routed++;
    }
    if (routed === 0) this.stats.unroutable++;
    else this.stats.routed++;
    this.scheduleDispatch();
    if (!channel.confirms) return;
    this.clock.schedule(() => {
      // the channel may have died meanwhile: its callback has already failed then
      if (channel.closed || record.state !== 'pending') return;
      this.stats.confirmed++;
      channel.confirm(record.tag);
    }, this.latencyMs);
  }

  consuming(channel: FakeChannel, record: ConsumerRecord): void {
    const q = this.queues.get(record.queue);
    if (!q) {
      this.violations.push(`consume from unknown queue ${record.queue}`);
      return;
    }
    q.consumers.push({ channel, record, prefetch: channel.prefetchCount ?? 0, unacked: new Map() });
    this.scheduleDispatch();
  }

  settled(channel: FakeChannel, deliveryTag: number, allUpTo: boolean, requeue: boolean | 'ack'): void {
    for (const q of this.queues.values()) {
      const back: StoredMessage[] = [];
      for (const c of q.consumers) {
        if (c.channel !== channel) continue;
        for (const [tag, message] of [...c.unacked]) {
          if (tag !== deliveryTag && !(allUpTo && tag < deliveryTag)) continue;
          c.unacked.delete(tag);
          if (requeue === 'ack') this.stats.acked++;
          else if (requeue) back.push(message);
        }
      }
      this.requeue(q, back);
    }
    this.scheduleDispatch();
  }

  channelClosed(channel: FakeChannel): void {
    for (const q of this.queues.values()) {
      const back: StoredMessage[] = [];
      q.consumers = q.consumers.filter((c) => {
        if (c.channel !== channel) return true;
        back.push(...c.unacked.values());
        return false;
      });
      this.requeue(q, back);
    }
    this.scheduleDispatch();
  }

  /** Unacked messages go back to the head of their queue, in their original order, marked redelivered. */
  private requeue(q: Queue, messages: StoredMessage[]): void {
    if (messages.length === 0) return;
    this.stats.requeued += messages.length;
    for (const m of messages) m.redelivered = true;
    q.ready = [...messages, ...q.ready].sort((a, b) => a.id - b.id);
  }

  private scheduleDispatch(): void {
    if (this.dispatchScheduled) return;
    this.dispatchScheduled = true;
    this.clock.schedule(() => {
      this.dispatchScheduled = false;
      this.dispatch();
    }, this.latencyMs);
  }

  /** Hands ready messages to consumers with room (prefetch), round-robin per queue. */
  private dispatch(): void {
    for (const q of this.queues.values()) {
      while (q.ready.length > 0) {
        const open = q.consumers.filter((c) => !c.channel.closed && (c.prefetch === 0 || c.unacked.size < c.prefetch));
        if (open.length === 0) break;
        const c = open[q.turn++ % open.length];
        const m = q.ready.shift()!;
        const delivered: ConsumeMessage = c.channel.deliver(q.name, m.content, {
          headers: m.options?.headers as ConsumeMessage['properties']['headers'],
          redelivered: m.redelivered,
          exchange: m.exchange,
          routingKey: m.routingKey,
          properties: {
            contentType: m.options?.contentType,
            appId: m.options?.appId,
            messageId: m.options?.messageId,
            timestamp: m.options?.timestamp,
            deliveryMode: m.options?.persistent ? 2 : 1,
          },
        });
        this.stats.delivered++;
        if (m.redelivered) this.stats.redelivered++;
        c.unacked.set(delivered.fields.deliveryTag, m);
      }
    }
  }
}

// ---- the world -----------------------------------------------------------------------------

interface DialObject {
  hostname?: string;
  port?: number;
  heartbeat?: number;
}

type ConnectOptions = SocketOptions & { recovery?: RecoveryOptions | true; clientProperties?: { connection_name?: string } };

export class FakeWorld {
  readonly clock: VirtualClock;
  readonly brokers = new Map<string, FakeBroker>();
  /** Every connection dialled, with the name its client gave it (connection_name). */
  readonly connections: Array<{ name: string; host: string; connection: FakeConnection }> = [];
  readonly environment: Environment;

  constructor(options: { seed?: number; hosts?: string[]; latencyMs?: number } = {}) {
    this.clock = new VirtualClock(options.seed ?? 1);
    for (const host of options.hosts ?? []) this.brokers.set(host, new FakeBroker(host, this.clock, options.latencyMs ?? 1));
    const clock = this.clock;
    this.environment = Object.freeze({
      now: () => EPOCH_MS + clock.time,
      monotonicMs: () => clock.time,
      nowMicros: () => Math.floor((EPOCH_MS + clock.time) * 1000),
      setTimeout: (fn: () => void, ms: number) => clock.schedule(fn, ms),
      clearTimeout: (h: TimerHandle | undefined) => clock.cancel(h),
      setInterval: (fn: () => void, ms: number) => clock.schedule(fn, ms, ms),
      clearInterval: (h: TimerHandle | undefined) => clock.cancel(h),
      setImmediate: (fn: () => void) => clock.schedule(fn, 0),
      clearImmediate: (h: TimerHandle | undefined) => clock.cancel(h),
      random: () => clock.random(),
      randomBytes: (n: number) => clock.randomFill(Buffer.alloc(n)),
      randomFill: (buffer: Buffer) => clock.randomFill(buffer),
      randomUUID: () => {
        const b = clock.randomFill(Buffer.alloc(16));
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        const h = b.toString('hex');
        return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
      },
      connect: ((url: string | DialObject, options?: ConnectOptions) => this.connect(url, options)) as unknown as Connect,
    });
  }

  broker(host: string): FakeBroker {
    const b = this.brokers.get(host);
    if (!b) throw new Error(`fake-world: no broker on ${host}`);
    return b;
  }

  /** The connections whose client name contains `part` (e.g. 'miros/sub' and the host). */
  named(...parts: string[]): FakeConnection[] {
    return this.connections.filter((c) => parts.every((p) => c.name.includes(p))).map((c) => c.connection);
  }

  /**
   * Runs timers (and the promise jobs they start) until `done()` holds; throws if the world
   * goes idle first or `limitMs` of virtual time pass. Returns the virtual time taken.
   */
  async runUntil(done: () => boolean, limitMs = 60_000): Promise<number> {
    const start = this.clock.time;
    for (;;) {
      await flushJobs();
      if (done()) return this.clock.time - start;
      const at = this.clock.nextAt;
      if (at === undefined) throw new Error(`fake-world: idle at ${this.clock.time} ms and the condition does not hold`);
      if (at - start > limitMs) throw new Error(`fake-world: ${limitMs} virtual ms passed and the condition does not hold`);
      this.clock.fireNext();
    }
  }

  /** Settles `promise` by running the world (see runUntil). */
  async settle<T>(promise: Promise<T>, limitMs?: number): Promise<T> {
    let state: 'pending' | 'done' = 'pending';
    const watched = promise.finally(() => (state = 'done'));
    watched.catch(() => undefined);
    await this.runUntil(() => state === 'done', limitMs);
    return watched;
  }

  /** Runs every timer due within the next `ms` of virtual time, then sets the clock there. */
  async advance(ms: number): Promise<void> {
    const until = this.clock.time + ms;
    for (;;) {
      await flushJobs();
      const at = this.clock.nextAt;
      if (at === undefined || at > until) break;
      this.clock.fireNext();
    }
    this.clock.time = until;
    await flushJobs();
  }

  private connect(url: string | DialObject, options: ConnectOptions = {}): Promise<RecoveringChannelModel> {
    const target: DialObject = typeof url === 'string' ? { hostname: new URL(url).hostname } : url;
    const recovery = options.recovery;
    if (recovery === undefined || recovery === true || !recovery.setup) {
      return Promise.reject(new Error('fake-world: only recovering connections with a setup are faked'));
    }
    const host = target.hostname ?? 'localhost';
    const setup = recovery.setup;
    if (setup.length > 1) return Promise.reject(new Error('fake-world: only promise-returning recovery setups are faked'));
    const connection = new FakeConnection(`amqp://${host}:${target.port ?? 5672}`, target.heartbeat ?? 0, (model) => Promise.resolve((setup as (m: typeof model) => Promise<void>)(model)));
    this.connections.push({ name: options.clientProperties?.connection_name ?? '', host, connection });
    const delay = (attempt: number) => recovery.calculateDelay?.(attempt) ?? recovery.initialDelay ?? 100;
    let attempt = 0;
    const dial = () => {
      if (connection.closed || connection.current) return;
      // amqplib re-reads the target on every attempt (connection.ts rotates its address)
      const broker = this.brokers.get(target.hostname ?? host);
      if (!broker) {
        connection.emit('connect-failed', new Error(`connect ECONNREFUSED ${target.hostname}:5672`));
        this.clock.schedule(dial, delay(++attempt));
        return;
      }
      connection.broker = broker;
      connection.connect().then(
        () => (attempt = 0),
        () => {
          if (!connection.closed) this.clock.schedule(dial, delay(++attempt));
        },
      );
    };
    connection.on('disconnect', () => this.clock.schedule(dial, delay(++attempt)));
    this.clock.schedule(dial, 0); // amqplib defers the first attempt to the next turn
    return Promise.resolve(connection);
  }
}

/**
 * Lets every promise job queued so far (and those they queue) run. A bounded number of
 * microtask turns: no real timer is involved.
 */
async function flushJobs(turns = 200): Promise<void> {
  for (let i = 0; i < turns; i++) await Promise.resolve();
}
