// The AMQP behaviour suite (issue 24, item 4): one set of cases, run against the simulated
// broker (test/unit/amqp-behaviour-sim.test.ts) and against a real RabbitMQ node
// (test/integration/amqp-behaviour-real.test.ts). Each case drives amqplib's promise API (or
// the simulation's copy of it) through a Target and asserts what the broker does. Where the
// two differ, the simulation is wrong.
//
// Waiting is on events (a delivery, a confirm, a close), bounded by the target's sleep; the
// few "nothing more arrives" checks wait a fixed quiet period.
import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage, MessagePropertyHeaders } from 'amqplib';
import { expect } from 'vitest';

export interface Target {
  readonly kind: 'sim' | 'real';
  /** A new connection to the node. */
  connect(): Promise<ChannelModel>;
  /** Resolves after `ms` (virtual ms in the simulation). */
  sleep(ms: number): Promise<void>;
  /** Raises (true) or clears a memory alarm on the node. */
  alarm(on: boolean): Promise<void>;
  /** SIGKILL the node, start it again, resolve once it accepts connections. */
  crashAndRestart(): Promise<void>;
  /** A name no other case or run uses (queues and exchanges on a shared real node). */
  unique(what: string): string;
}

export interface Case {
  name: string;
  /** A known defect of the simulation this case shows: its sim run is expected to fail (it.fails) until fixed. */
  simDefect?: string;
  /** Takes seconds on a real node (a restart): still run, named here so a report can say why a run is slow. */
  slow?: boolean;
  run(t: Target): Promise<void>;
}

const QUIET_MS = 300;
const WAIT_MS = 5000;

/** Rejects after `ms` with `what` unless `p` settles first. */
async function within<T>(t: Target, ms: number, what: string, p: Promise<T>): Promise<T> {
  let done = false;
  const timeout = t.sleep(ms).then(() => {
    if (!done) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    return undefined as never;
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    done = true;
  }
}

/** Everything a consumer receives, with a way to wait for the n-th. */
class Inbox {
  readonly messages: ConsumeMessage[] = [];
  cancelled = false;
  consumerTag = '';
  private waiters: Array<{ n: number; resolve: () => void }> = [];
  private cancelWaiters: Array<() => void> = [];

  readonly onMessage = (msg: ConsumeMessage | null): void => {
    if (msg === null) {
      this.cancelled = true;
      for (const w of this.cancelWaiters.splice(0)) w();
      return;
    }
    this.messages.push(msg);
    this.waiters = this.waiters.filter((w) => {
      if (this.messages.length < w.n) return true;
      w.resolve();
      return false;
    });
  };

  get bodies(): string[] {
    return this.messages.map((m) => m.content.toString());
  }

  async count(t: Target, n: number, ms = WAIT_MS): Promise<ConsumeMessage[]> {
    if (this.messages.length < n) await within(t, ms, `${n} messages (have ${this.messages.length})`, new Promise<void>((resolve) => this.waiters.push({ n, resolve })));
    return this.messages;
  }

  async cancel(t: Target): Promise<void> {
    if (!this.cancelled) await within(t, WAIT_MS, 'the consumer to be cancelled', new Promise<void>((resolve) => this.cancelWaiters.push(resolve)));
  }
}

async function consume(channel: Channel, queue: string, options?: { exclusive?: boolean; noAck?: boolean }): Promise<Inbox> {
  const inbox = new Inbox();
  const { consumerTag } = await channel.consume(queue, inbox.onMessage, options);
  inbox.consumerTag = consumerTag;
  return inbox;
}

/** Publishes and resolves with the confirm's outcome: 'ack', or the error's message. */
function publishConfirmed(channel: ConfirmChannel, exchange: string, key: string, body: string, options: Parameters<ConfirmChannel['publish']>[3] = {}): Promise<string> {
  return new Promise((resolve) => {
    channel.publish(exchange, key, Buffer.from(body), options, (err) => resolve(err ? (err as Error).message : 'ack'));
  });
}

/** The channel's 'error' and 'close', in order. */
function watchClose(channel: Channel): { events: string[]; error: Promise<Error & { code?: number }>; closed: Promise<void> } {
  const events: string[] = [];
  const error = new Promise<Error & { code?: number }>((resolve) => channel.on('error', (err: Error) => (events.push('error'), resolve(err))));
  const closed = new Promise<void>((resolve) => channel.on('close', () => (events.push('close'), resolve())));
  return { events, error, closed };
}

/** Connections a case opened, closed at its end whatever happened. */
class Session {
  private readonly models: ChannelModel[] = [];
  constructor(readonly t: Target) {}

  async connect(): Promise<ChannelModel> {
    const model = await this.t.connect();
    model.on('error', () => undefined);
    this.models.push(model);
    return model;
  }

  async channel(confirm = false): Promise<ConfirmChannel> {
    const model = await this.connect();
    const ch = confirm ? await model.createConfirmChannel() : ((await model.createChannel()) as ConfirmChannel);
    ch.on('error', () => undefined);
    return ch;
  }

  /**
   * The exchange to publish to `queue` by its name: a direct exchange with `queue` bound by its
   * name. (The default exchange is not used: the testbeds' application user may only write to
   * miros.* exchanges.)
   */
  async direct(channel: Channel, queue: string): Promise<string> {
    const exchange = this.t.unique('direct');
    await channel.assertExchange(exchange, 'direct', { durable: false });
    await channel.bindQueue(queue, exchange, queue);
    this.exchanges.push(exchange);
    return exchange;
  }

  async close(): Promise<void> {
    for (const m of this.models.splice(0)) await m.close().catch(() => undefined);
    if (this.exchanges.length === 0) return;
    // the direct exchanges are not auto-deleted: remove them
    const model = await this.t.connect().catch(() => undefined);
    if (!model) return;
    model.on('error', () => undefined);
    const ch = await model.createChannel().catch(() => undefined);
    for (const x of this.exchanges.splice(0)) await ch?.deleteExchange(x).catch(() => undefined);
    await model.close().catch(() => undefined);
  }

  private readonly exchanges: string[] = [];
}

async function session(t: Target, body: (s: Session) => Promise<void>): Promise<void> {
  const s = new Session(t);
  try {
    await body(s);
  } finally {
    await s.close();
  }
}

function headerKeys(headers: MessagePropertyHeaders | undefined): string[] {
  return Object.keys(headers ?? {}).sort();
}

export const cases: Case[] = [
  {
    name: 'a topic exchange routes by pattern (* one word, # zero or more); a direct exchange by equal key',
    run: (t) =>
      session(t, async (s) => {
        const ch = await s.channel(true);
        const x = t.unique('topic');
        await ch.assertExchange(x, 'topic', { durable: false, autoDelete: false });
        const patterns = ['a.*', 'a.#', '#', 'b.c'];
        const queues: string[] = [];
        const inboxes: Inbox[] = [];
        for (const [i, p] of patterns.entries()) {
          const { queue } = await ch.assertQueue(t.unique(`q${i}`), { exclusive: true, durable: false });
          await ch.bindQueue(queue, x, p);
          queues.push(queue);
          inboxes.push(await consume(ch, queue, { noAck: true }));
        }
        const keys = ['a', 'a.b', 'a.b.c', 'b.c', 'c'];
        for (const k of keys) expect(await publishConfirmed(ch, x, k, k)).toBe('ack');
        const d = await s.direct(ch, queues[3]);
        expect(await publishConfirmed(ch, d, queues[3], 'direct')).toBe('ack');
        expect(await publishConfirmed(ch, d, 'no-such-key', 'unrouted')).toBe('ack');
        const expected = [['a.b'], ['a', 'a.b', 'a.b.c'], keys, ['b.c', 'direct']];
        for (const [i, inbox] of inboxes.entries()) await inbox.count(t, expected[i].length);
        await t.sleep(QUIET_MS);
        expect(inboxes.map((i) => i.bodies)).toEqual(expected);
        expect(inboxes[0].messages[0].fields).toMatchObject({ exchange: x, routingKey: 'a.b', redelivered: false });
      }),
  },
  {
    name: 'a delivery carries the publisher\'s properties as amqplib decodes them: headers always (empty at least, CC among them), the rest undefined unless set',
    run: (t) =>
      session(t, async (s) => {
        const ch = await s.channel(true);
        const q = t.unique('props');
        const also = t.unique('props-cc');
        await ch.assertQueue(q, { exclusive: true, durable: false });
        await ch.assertQueue(also, { exclusive: true, durable: false });
        const inbox = await consume(ch, q, { noAck: true });
        const ccInbox = await consume(ch, also, { noAck: true });
        const d = await s.direct(ch, q);
        await ch.bindQueue(also, d, also);
        expect(await publishConfirmed(ch, d, q, 'plain')).toBe('ack');
        expect(
          await publishConfirmed(ch, d, q, 'full', {
            persistent: true,
            headers: { n: 1, flag: true, text: 'x' },
            contentType: 'application/json',
            correlationId: 'c1',
            appId: 'app',
            timestamp: 1_700_000_000,
            type: 'kind',
            priority: 3,
            CC: also,
          }),
        ).toBe('ack');
        const [plain, full] = await inbox.count(t, 2);
        await ccInbox.count(t, 1);
        expect(plain.properties).toEqual({
          contentType: undefined,
          contentEncoding: undefined,
          headers: {},
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
        });
        expect(full.properties).toMatchObject({
          headers: { n: 1, flag: true, text: 'x', CC: [also] },
          deliveryMode: 2,
          contentType: 'application/json',
          correlationId: 'c1',
          appId: 'app',
          timestamp: 1_700_000_000,
          type: 'kind',
          priority: 3,
        });
        expect(ccInbox.messages[0].fields.routingKey).toBe(q);
        expect(ccInbox.messages[0].content.toString()).toBe('full');
      }),
  },
  {
    name: "the application user's permissions (^(miros\\.|amq\\.gen-)): another queue name is refused (403), the default exchange ('amq.default') too; server-named queues are allowed",
    run: (t) =>
      session(t, async (s) => {
        const ch = await s.channel(true);
        const watch = watchClose(ch);
        await expect(ch.assertQueue('other.queue', { durable: false })).rejects.toThrow(
          /^Operation failed: QueueDeclare; 403 \(ACCESS-REFUSED\) with message "ACCESS_REFUSED - access to queue 'other.queue' in vhost '\/' refused for user 'peter'"$/,
        );
        await within(t, WAIT_MS, 'close', watch.closed);
        const ch2 = await s.channel(true);
        const { queue } = await ch2.assertQueue('', { exclusive: true });
        expect(queue).toMatch(/^amq\.gen-/);
        const watch2 = watchClose(ch2);
        const outcome = publishConfirmed(ch2, '', queue, 'x');
        const err = await within(t, WAIT_MS, 'the channel error', watch2.error);
        expect(err.message).toBe(`Channel closed by server: 403 (ACCESS-REFUSED) with message "ACCESS_REFUSED - access to exchange 'amq.default' in vhost '/' refused for user 'peter'"`);
        expect(await outcome).toBe('channel closed');
      }),
  },
  {
    name: 'publishing to an exchange that does not exist closes the channel (404): error, then close; the unconfirmed publish fails',
    run: (t) =>
      session(t, async (s) => {
        const ch = await s.channel(true);
        const watch = watchClose(ch);
        const outcome = publishConfirmed(ch, t.unique('nowhere'), 'k', 'x');
        const err = await within(t, WAIT_MS, 'the channel error', watch.error);
        expect(err.code).toBe(404);
        expect(err.message).toMatch(/^Channel closed by server: 404 \(NOT-FOUND\) with message "NOT_FOUND - no exchange '.*' in vhost '\/'"$/);
        await within(t, WAIT_MS, 'close', watch.closed);
        expect(watch.events).toEqual(['error', 'close']);
        expect(await outcome).toBe('channel closed');
        expect(() => ch.publish('', 'q', Buffer.from('x'))).toThrow(/Channel closed/);
        await expect(ch.assertQueue('')).rejects.toThrow(/Channel closed/);
      }),
  },
  {
    name: 'a refused RPC rejects with "Operation failed: <method>; <code> …" and closes the channel (consume from a missing queue: 404; ack of an unknown tag: 406)',
    run: (t) =>
      session(t, async (s) => {
        const ch = await s.channel();
        const watch = watchClose(ch);
        const failed = ch.consume(t.unique('missing'), () => undefined);
        await expect(failed).rejects.toThrow(/^Operation failed: BasicConsume; 404 \(NOT-FOUND\) with message "NOT_FOUND - no queue '.*' in vhost '\/'"$/);
        await within(t, WAIT_MS, 'close', watch.closed);
        const ch2 = await s.channel();
        const watch2 = watchClose(ch2);
        ch2.ack({ fields: { deliveryTag: 7 } } as ConsumeMessage);
        const err = await within(t, WAIT_MS, 'the channel error', watch2.error);
        expect(err.code).toBe(406);
        expect(err.message).toBe('Channel closed by server: 406 (PRECONDITION-FAILED) with message "PRECONDITION_FAILED - unknown delivery tag 7"');
      }),
  },
  {
    name: 'message TTL: an expired message is dead-lettered with x-death (reason expired) and x-first-death-*; per-message expiration too',
    run: (t) =>
      session(t, async (s) => {
        const ch = await s.channel(true);
        const dlx = t.unique('dlx');
        const q = t.unique('ttl');
        const dead = t.unique('dead');
        const x = t.unique('src');
        await ch.assertExchange(dlx, 'direct', { durable: false });
        await ch.assertExchange(x, 'topic', { durable: false });
        await ch.assertQueue(dead, { exclusive: true, durable: false });
        await ch.bindQueue(dead, dlx, 'dead-key');
        await ch.assertQueue(q, { exclusive: true, durable: false, arguments: { 'x-message-ttl': 100, 'x-dead-letter-exchange': dlx, 'x-dead-letter-routing-key': 'dead-key' } });
        await ch.bindQueue(q, x, 'k.#');
        const inbox = await consume(ch, dead);
        const before = Math.floor(Date.now() / 1000);
        expect(await publishConfirmed(ch, x, 'k.1', 'one', { headers: { mine: 'yes' }, messageId: 'm1', contentType: 'text/plain' })).toBe('ack');
        expect(await publishConfirmed(ch, x, 'k.2', 'two', { expiration: '50' })).toBe('ack');
        const [first, second] = await inbox.count(t, 2);
        expect(inbox.bodies).toEqual(['one', 'two']);
        expect(first.fields).toMatchObject({ exchange: dlx, routingKey: 'dead-key', redelivered: false });
        expect(first.properties).toMatchObject({ messageId: 'm1', contentType: 'text/plain' });
        expect(headerKeys(first.properties.headers)).toEqual(['mine', 'x-death', 'x-first-death-exchange', 'x-first-death-queue', 'x-first-death-reason']);
        const headers = first.properties.headers!;
        expect(headers).toMatchObject({ mine: 'yes', 'x-first-death-reason': 'expired', 'x-first-death-queue': q, 'x-first-death-exchange': x });
        const [death] = headers['x-death']!;
        expect(Object.keys(death).sort()).toEqual(['count', 'exchange', 'queue', 'reason', 'routing-keys', 'time']);
        expect(death).toMatchObject({ count: 1, reason: 'expired', queue: q, exchange: x, 'routing-keys': ['k.1'] });
        if (t.kind === 'real') expect(death.time.value).toBeGreaterThanOrEqual(before - 1);
        // per-message expiration: recorded as original-expiration, the expiration property is gone
        expect(second.properties.expiration).toBeUndefined();
        expect(second.properties.headers!['x-death']![0]).toMatchObject({ reason: 'expired', 'original-expiration': '50', 'routing-keys': ['k.2'] });
      }),
  },
  {
    name: 'nack with requeue redelivers (redelivered set); nack without requeue dead-letters (reason rejected); reject likewise',
    run: (t) =>
      session(t, async (s) => {
        const ch = await s.channel(true);
        const dlx = t.unique('dlx');
        const q = t.unique('work');
        const dead = t.unique('dead');
        await ch.assertExchange(dlx, 'fanout', { durable: false });
        await ch.assertQueue(dead, { exclusive: true, durable: false });
        await ch.bindQueue(dead, dlx, '');
        await ch.assertQueue(q, { exclusive: true, durable: false, arguments: { 'x-dead-letter-exchange': dlx } });
        const deadInbox = await consume(ch, dead, { noAck: true });
        const inbox = await consume(ch, q);
        const d = await s.direct(ch, q);
        for (const b of ['a', 'b']) expect(await publishConfirmed(ch, d, q, b)).toBe('ack');
        const [a, b] = await inbox.count(t, 2);
        expect([a.fields.redelivered, b.fields.redelivered]).toEqual([false, false]);
        ch.nack(a, false, true);
        const again = (await inbox.count(t, 3))[2];
        expect(again.content.toString()).toBe('a');
        expect(again.fields.redelivered).toBe(true);
        expect(again.fields.deliveryTag).toBe(3);
        ch.nack(again, false, false);
        ch.reject(b, false);
        await deadInbox.count(t, 2);
        expect(deadInbox.bodies.sort()).toEqual(['a', 'b']);
        for (const m of deadInbox.messages) {
          expect(m.properties.headers!['x-death']![0]).toMatchObject({ count: 1, reason: 'rejected', queue: q, exchange: d, 'routing-keys': [q] });
          expect(m.properties.headers!['x-first-death-reason']).toBe('rejected');
        }
        await t.sleep(QUIET_MS);
        expect(inbox.messages).toHaveLength(3);
      }),
  },
  {
    name: 'queue expiry (x-expires): an unused queue is deleted; one with a consumer is not',
    run: (t) =>
      session(t, async (s) => {
        const ch = await s.channel();
        const unused = t.unique('unused');
        const used = t.unique('used');
        await ch.assertQueue(unused, { durable: false, arguments: { 'x-expires': 200 } });
        await ch.assertQueue(used, { durable: false, arguments: { 'x-expires': 200 } });
        await consume(ch, used);
        await t.sleep(1000);
        expect((await ch.checkQueue(used)).queue).toBe(used);
        const watch = watchClose(ch);
        await expect(ch.checkQueue(unused)).rejects.toThrow(/404 \(NOT-FOUND\) with message "NOT_FOUND - no queue '.*' in vhost '\/'"/);
        await within(t, WAIT_MS, 'close', watch.closed);
        const other = await s.channel();
        await other.deleteQueue(used);
      }),
  },
  {
    name: 'an exclusive consumer refuses a second consumer (403, its channel closes) and an exclusive one is refused next to any other',
    run: (t) =>
      session(t, async (s) => {
        const owner = await s.channel(true);
        const q = t.unique('excl');
        await owner.assertQueue(q, { durable: false, autoDelete: false });
        const first = await consume(owner, q, { exclusive: true });
        const other = await s.channel();
        const watch = watchClose(other);
        await expect(other.consume(q, () => undefined)).rejects.toThrow(
          new RegExp(`^Operation failed: BasicConsume; 403 \\(ACCESS-REFUSED\\) with message "ACCESS_REFUSED - queue '${q}' in vhost '/' in exclusive use"$`),
        );
        expect((await within(t, WAIT_MS, 'the channel error', watch.error)).code).toBe(403);
        await within(t, WAIT_MS, 'close', watch.closed);
        // the first consumer is unharmed
        expect(await publishConfirmed(owner, await s.direct(owner, q), q, 'still mine')).toBe('ack');
        await first.count(t, 1);
        // a plain consumer first: an exclusive one next to it is refused
        const q2 = t.unique('shared');
        await owner.assertQueue(q2, { durable: false });
        await consume(owner, q2);
        const third = await s.channel();
        await expect(third.consume(q2, () => undefined, { exclusive: true })).rejects.toThrow(/403 \(ACCESS-REFUSED\).*in exclusive use/);
        await owner.deleteQueue(q);
        await owner.deleteQueue(q2);
      }),
  },
  {
    name: 'an exclusive queue is locked to its connection (405 to another) and deleted when that connection closes',
    run: (t) =>
      session(t, async (s) => {
        const a = await s.connect();
        const cha = await a.createChannel();
        const q = t.unique('lock');
        await cha.assertQueue(q, { exclusive: true, durable: false });
        const b = await s.channel();
        const watch = watchClose(b);
        await expect(b.assertQueue(q, { exclusive: true, durable: false })).rejects.toThrow(
          new RegExp(`^Operation failed: QueueDeclare; 405 \\(RESOURCE-LOCKED\\) with message "RESOURCE_LOCKED - cannot obtain exclusive access to locked queue '${q}' in vhost '/'`),
        );
        await within(t, WAIT_MS, 'close', watch.closed);
        await a.close();
        const c = await s.channel();
        expect(await c.assertQueue(q, { exclusive: true, durable: false })).toEqual({ queue: q, messageCount: 0, consumerCount: 0 });
      }),
  },
  {
    name: 'publisher confirms: routed and unroutable publishes are acked; over x-max-length with reject-publish, nacked',
    run: (t) =>
      session(t, async (s) => {
        const ch = await s.channel(true);
        const q = t.unique('bounded');
        await ch.assertQueue(q, { exclusive: true, durable: false, arguments: { 'x-max-length': 1, 'x-overflow': 'reject-publish' } });
        const x = t.unique('x');
        await ch.assertExchange(x, 'topic', { durable: false });
        expect(await publishConfirmed(ch, x, 'nobody.listens', 'lost')).toBe('ack');
        const d = await s.direct(ch, q);
        expect(await publishConfirmed(ch, d, q, 'first')).toBe('ack');
        expect(await publishConfirmed(ch, d, q, 'second')).toBe('message nacked');
        expect((await ch.checkQueue(q)).messageCount).toBe(1);
        // waitForConfirms resolves once every publish is settled
        const outcomes = [publishConfirmed(ch, x, 'k', '1'), publishConfirmed(ch, x, 'k', '2')];
        await ch.waitForConfirms();
        expect(await Promise.all(outcomes)).toEqual(['ack', 'ack']);
      }),
  },
  {
    name: 'prefetch: at most N unacked per consumer; a single ack lets one more in, a multiple ack the rest',
    run: (t) =>
      session(t, async (s) => {
        const ch = await s.channel(true);
        const q = t.unique('prefetch');
        await ch.assertQueue(q, { durable: false });
        const d = await s.direct(ch, q);
        for (let i = 0; i < 6; i++) expect(await publishConfirmed(ch, d, q, String(i))).toBe('ack');
        const consumer = await s.channel();
        await consumer.prefetch(2);
        const inbox = await consume(consumer, q);
        await inbox.count(t, 2);
        await t.sleep(QUIET_MS);
        expect(inbox.bodies).toEqual(['0', '1']);
        consumer.ack(inbox.messages[0]);
        await inbox.count(t, 3);
        await t.sleep(QUIET_MS);
        expect(inbox.bodies).toEqual(['0', '1', '2']);
        consumer.ack(inbox.messages[2], true); // acks 2 and 3 (tag 3 and all below)
        await inbox.count(t, 5);
        await t.sleep(QUIET_MS);
        expect(inbox.bodies).toEqual(['0', '1', '2', '3', '4']);
        expect(inbox.messages.map((m) => m.fields.deliveryTag)).toEqual([1, 2, 3, 4, 5]);
        consumer.ack(inbox.messages[4], true);
        await inbox.count(t, 6);
        consumer.ack(inbox.messages[5]);
        await t.sleep(QUIET_MS);
        expect((await ch.checkQueue(q)).messageCount).toBe(0);
        await ch.deleteQueue(q);
      }),
  },
  {
    name: "a consumer's connection drops: its unacked messages are redelivered to the next consumer, in order, marked redelivered",
    run: (t) =>
      session(t, async (s) => {
        const ch = await s.channel(true);
        const q = t.unique('redeliver');
        await ch.assertQueue(q, { durable: false, autoDelete: false });
        const d = await s.direct(ch, q);
        for (const b of ['m1', 'm2', 'm3']) expect(await publishConfirmed(ch, d, q, b)).toBe('ack');
        const gone = await t.connect();
        gone.on('error', () => undefined);
        const gch = await gone.createChannel();
        const first = await consume(gch, q);
        await first.count(t, 3);
        gch.ack(first.messages[0]);
        await t.sleep(QUIET_MS);
        await gone.close();
        const next = await s.channel();
        const second = await consume(next, q);
        await second.count(t, 2);
        expect(second.bodies).toEqual(['m2', 'm3']);
        expect(second.messages.map((m) => m.fields.redelivered)).toEqual([true, true]);
        next.ack(second.messages[1], true);
        await ch.deleteQueue(q);
      }),
  },
  {
    name: 'deleting a queue cancels its consumers (the callback gets null); the channel stays open',
    run: (t) =>
      session(t, async (s) => {
        const ch = await s.channel();
        const q = t.unique('doomed');
        await ch.assertQueue(q, { durable: false });
        const inbox = await consume(ch, q);
        const admin = await s.channel();
        expect(await admin.deleteQueue(q)).toEqual({ messageCount: 0 });
        await inbox.cancel(t);
        const { queue } = await ch.assertQueue('', { exclusive: true });
        expect(queue).toMatch(/^amq\.gen-/);
      }),
  },
  {
    name: 'a memory alarm blocks a publishing connection (blocked, "low on memory"); its publishes wait; cleared, unblocked and all confirmed and delivered',
    run: (t) =>
      session(t, async (s) => {
        const consumerChannel = await s.channel();
        const q = t.unique('alarm');
        await consumerChannel.assertQueue(q, { durable: false });
        const inbox = await consume(consumerChannel, q, { noAck: true });
        const publisher = await s.connect();
        const events: string[] = [];
        const blocked = new Promise<string>((resolve) => publisher.on('blocked', (reason: string) => (events.push('blocked'), resolve(reason))));
        const unblocked = new Promise<void>((resolve) => publisher.on('unblocked', () => (events.push('unblocked'), resolve())));
        const pch = await publisher.createConfirmChannel();
        const d = await s.direct(pch, q);
        expect(await publishConfirmed(pch, d, q, 'before')).toBe('ack');
        await t.alarm(true);
        const during: Array<Promise<string>> = [];
        try {
          await t.sleep(200); // the node's connections hear of the alarm (conserve_resources)
          during.push(publishConfirmed(pch, d, q, 'trigger'));
          expect(await within(t, WAIT_MS, 'connection.blocked', blocked)).toBe('low on memory');
          during.push(publishConfirmed(pch, d, q, 'held'));
          await t.sleep(QUIET_MS);
          expect(inbox.bodies).not.toContain('held');
        } finally {
          await t.alarm(false);
        }
        await within(t, WAIT_MS, 'connection.unblocked', unblocked);
        expect(events).toEqual(['blocked', 'unblocked']);
        expect(await Promise.all(during)).toEqual(['ack', 'ack']);
        await inbox.count(t, 3);
        expect(inbox.bodies).toEqual(['before', 'trigger', 'held']);
        await consumerChannel.deleteQueue(q);
      }),
  },
  {
    name: 'single active consumer: only the first consumer gets messages; when it goes, the next takes over (quorum queue, x-delivery-count on redelivery)',
    run: (t) =>
      session(t, async (s) => {
        const ch = await s.channel(true);
        const q = t.unique('sac');
        await ch.assertQueue(q, { durable: true, arguments: { 'x-queue-type': 'quorum', 'x-single-active-consumer': true } });
        const a = await s.connect();
        const ach = await a.createChannel();
        await ach.prefetch(10);
        const first = await consume(ach, q);
        const bch = await s.channel();
        await bch.prefetch(10);
        const second = await consume(bch, q);
        const d = await s.direct(ch, q);
        for (const b of ['1', '2', '3']) expect(await publishConfirmed(ch, d, q, b)).toBe('ack');
        await first.count(t, 3);
        await t.sleep(QUIET_MS);
        expect(second.messages).toHaveLength(0);
        expect(first.messages[0].properties.headers?.['x-delivery-count']).toBeUndefined();
        ach.ack(first.messages[0]);
        await t.sleep(QUIET_MS);
        await a.close(); // 2 and 3 unacked: back to the queue, to the next active consumer
        await second.count(t, 2);
        expect(second.bodies).toEqual(['2', '3']);
        expect(second.messages.map((m) => m.fields.redelivered)).toEqual([true, true]);
        expect(second.messages.map((m) => m.properties.headers?.['x-delivery-count'])).toEqual([1, 1]);
        bch.ack(second.messages[1], true);
        await ch.deleteQueue(q);
      }),
  },
  {
    name: 'a crash loses transient queues and messages; the restarted node keeps durable queues, bindings and confirmed persistent messages (marked redelivered: after a crash the node cannot know which were delivered)',
    slow: true,
    run: (t) =>
      session(t, async (s) => {
        const ch = await s.channel(true);
        const x = t.unique('durable-x');
        const q = t.unique('durable-q');
        const transient = t.unique('transient-q');
        await ch.assertExchange(x, 'topic', { durable: true });
        await ch.assertQueue(q, { durable: true });
        await ch.bindQueue(q, x, 'k');
        await ch.assertQueue(transient, { durable: false });
        await ch.bindQueue(transient, x, 'k');
        expect(await publishConfirmed(ch, x, 'k', 'kept', { persistent: true })).toBe('ack');
        expect(await publishConfirmed(ch, x, 'k', 'lost', { persistent: false })).toBe('ack');
        const model = await s.connect();
        const closed = new Promise<Error | undefined>((resolve) => model.on('close', resolve));
        await t.crashAndRestart();
        expect(await within(t, 30_000, 'the connection to close', closed)).toBeInstanceOf(Error);
        const after = await s.channel(true);
        expect(await after.checkQueue(q)).toMatchObject({ queue: q, messageCount: 1 });
        const watch = watchClose(after);
        await expect(after.checkQueue(transient)).rejects.toThrow(/404 \(NOT-FOUND\)/);
        await within(t, WAIT_MS, 'close', watch.closed);
        const ch2 = await s.channel(true);
        expect(await publishConfirmed(ch2, x, 'k', 'bound')).toBe('ack'); // the durable binding is back
        const inbox = await consume(ch2, q, { noAck: true });
        await inbox.count(t, 2);
        expect(inbox.bodies).toEqual(['kept', 'bound']);
        expect(inbox.messages.map((m) => m.fields.redelivered)).toEqual([true, false]);
        await ch2.deleteQueue(q);
        await ch2.deleteExchange(x).catch(() => undefined);
      }),
  },
];
