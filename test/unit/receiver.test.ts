// Receiver against a fake broker connection (fake-amqp.ts in place of openRecovering):
// dedup by sequence number, drops by reason, own messages, flow control of the acks,
// and what a reconnect does. The ack release runs on vitest's fake timers.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { encodeEnvelope, type Envelope } from '../../runtime/net/envelope.ts';
import { Fernet, generateKey } from '../../runtime/net/fernet.ts';
import { BACKLOG_HIGH, BACKLOG_LOW, PREFETCH, Receiver, type ReceiverOptions } from '../../runtime/net/receiver.ts';
import { EXCHANGES, MESSAGE_TTL_MS, QUEUE_EXPIRES_MS, SENDER_HEADER, type NetworkName } from '../../runtime/net/topology.ts';
import { fakeBrokers, type FakeChannel, type FakeConnection } from './fake-amqp.ts';

vi.mock('../../runtime/net/connection.ts', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../runtime/net/connection.ts')>()),
  openRecovering: (await import('./fake-amqp.ts')).fakeOpenRecovering,
}));

const CHART = 'b1';
const ME = `${CHART}@127.0.0.2`;
const A1 = { sender: 'a1', host: '127.0.0.3' };
const QUEUE: Record<NetworkName, string> = { mesh: `miros.mesh.${CHART}`, trace: `miros.trace.${CHART}`, spy: `miros.spy.${CHART}` };

const keys = { mesh: new Fernet(generateKey()), trace: new Fernet(generateKey()) };
const stranger = new Fernet(generateKey());

interface Harness {
  receiver: Receiver;
  connection: FakeConnection;
  /** The consuming channel (one for every network). */
  channel: FakeChannel;
  delivered: Array<{ network: NetworkName; envelope: Envelope }>;
  drops: string[];
  backlog: { value: number };
}

async function start(options: Partial<ReceiverOptions> = {}): Promise<Harness> {
  const delivered: Harness['delivered'] = [];
  const drops: string[] = [];
  const backlog = { value: 0 };
  const receiver = new Receiver({
    url: 'amqp://u:p@127.0.0.2:5672/%2F',
    label: 'amqp://u:***@127.0.0.2:5672/%2F',
    chartName: CHART,
    heartbeat: 0,
    subscriptions: [
      { network: 'mesh', bindingKey: '#', fernet: keys.mesh, deliver: (envelope) => delivered.push({ network: 'mesh', envelope }), skipSender: ME },
      { network: 'trace', bindingKey: 'snoop.trace', fernet: keys.trace, deliver: (envelope) => delivered.push({ network: 'trace', envelope }) },
    ],
    backlog: () => backlog.value,
    onDrop: (m) => drops.push(m),
    ...options,
  });
  const opened = receiver.open(1000);
  const connection = fakeBrokers.connections.at(-1)!;
  const model = await connection.connect();
  await opened;
  return {
    receiver,
    connection,
    channel: model.channel({ consuming: QUEUE.mesh }),
    delivered,
    drops,
    backlog,
  };
}

const body = (seq: number, from: { sender: string; host: string } = A1, fernet = keys.mesh, payload: unknown = { n: seq }) =>
  encodeEnvelope(fernet, { ...from, seq, ts: 1_700_000_000_000, signal: 'PING', payload });
const claim = (from: { sender: string; host: string } = A1) => ({ headers: { [SENDER_HEADER]: `${from.sender}@${from.host}` } });
const seqs = (h: Harness, network: NetworkName = 'mesh') => h.delivered.filter((d) => d.network === network).map((d) => d.envelope.seq);
/** Runs what is due now: the setImmediate that releases a burst's acks. */
const turn = () => vi.advanceTimersByTime(0);

beforeEach(() => {
  vi.useFakeTimers();
  fakeBrokers.reset();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('Receiver: delivery and acks', () => {
  it('declares its queues, consumes them exclusively, and deletes the stale ones only on the first setup', async () => {
    const h = await start();
    const first = h.connection.current!;
    const probes = first.channels.filter((c) => c.deletedQueues.length > 0);
    expect(probes.flatMap((c) => c.deletedQueues)).toEqual([
      { queue: QUEUE.mesh, options: { ifUnused: true } },
      { queue: QUEUE.trace, options: { ifUnused: true } },
    ]);
    expect(first.channel({ consuming: QUEUE.trace })).toBe(h.channel); // one channel for every network
    expect(h.channel.prefetchCount).toBe(PREFETCH);
    expect(h.channel.queues.get(QUEUE.mesh)).toEqual({
      durable: true,
      arguments: { 'x-message-ttl': MESSAGE_TTL_MS, 'x-expires': QUEUE_EXPIRES_MS },
    });
    expect(h.channel.bindings).toEqual([
      { queue: QUEUE.mesh, exchange: EXCHANGES.mesh, pattern: '#' },
      { queue: QUEUE.trace, exchange: EXCHANGES.trace, pattern: 'snoop.trace' },
    ]);
    expect(h.channel.consumers.map((c) => [c.queue, c.options?.exclusive])).toEqual([
      [QUEUE.mesh, true],
      [QUEUE.trace, true],
    ]);

    h.connection.lose();
    const second = await h.connection.connect();
    expect(second.channels.flatMap((c) => c.deletedQueues)).toEqual([]);
    expect(second.channel({ consuming: QUEUE.mesh }).consumers).toHaveLength(2);
  });

  it('delivers valid envelopes in order and acks the burst with one ack once it is handled', async () => {
    const h = await start();
    for (const seq of [1, 2, 3]) h.channel.deliver(QUEUE.mesh, body(seq), claim());
    expect(seqs(h)).toEqual([1, 2, 3]);
    expect(h.delivered[0].envelope).toMatchObject({ sender: 'a1', host: '127.0.0.3', signal: 'PING', payload: { n: 1 } });
    expect(h.channel.acks).toEqual([]); // not before the burst is handled
    turn();
    expect(h.channel.acks).toEqual([{ deliveryTag: 3, allUpTo: true }]);
    expect(h.channel.unacked).toEqual([]);
    expect(h.channel.violations).toEqual([]);
    expect(h.receiver.counters.mesh).toMatchObject({ received: 3, delivered: 3, duplicates: 0, dropped: 0, own: 0 });
  });

  it('acks even when the handler throws, and goes on', async () => {
    const error = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const seen: number[] = [];
    const h = await start({
      subscriptions: [
        {
          network: 'mesh',
          bindingKey: '#',
          fernet: keys.mesh,
          deliver: (e) => {
            seen.push(e.seq);
            if (e.seq === 1) throw new Error('boom');
          },
        },
      ],
    });
    h.channel.deliver(QUEUE.mesh, body(1));
    h.channel.deliver(QUEUE.mesh, body(2));
    turn();
    expect(seen).toEqual([1, 2]);
    expect(h.channel.unacked).toEqual([]);
    expect(error).toHaveBeenCalledTimes(1);
    expect(String(error.mock.calls[0][0])).toContain(`${CHART}: a mesh handler threw`);
    error.mockRestore();
  });
});

describe('Receiver: duplicates', () => {
  it('drops a resent message by its sender sequence number: counted, acked, not delivered', async () => {
    const h = await start();
    for (const seq of [10, 11, 11, 10, 12]) h.channel.deliver(QUEUE.mesh, body(seq), claim());
    turn();
    expect(seqs(h)).toEqual([10, 11, 12]);
    expect(h.receiver.counters.mesh).toMatchObject({ received: 5, delivered: 3, duplicates: 2, dropped: 0 });
    expect(h.channel.unacked).toEqual([]);
    expect(h.drops).toEqual([]); // duplicates are expected (outbox resends), not reported
  });

  it('keeps a late message that never arrived (nacked, then resent after a later one)', async () => {
    const h = await start();
    // m2 was confirmed and delivered; m1 was nacked and comes again after it, then both resends
    for (const seq of [2, 1, 2, 1]) h.channel.deliver(QUEUE.mesh, body(seq), claim());
    turn();
    expect(seqs(h)).toEqual([2, 1]);
    expect(h.receiver.counters.mesh).toMatchObject({ received: 4, delivered: 2, duplicates: 2, dropped: 0 });
  });

  it('numbers messages per network, sender and host', async () => {
    const h = await start();
    h.channel.deliver(QUEUE.mesh, body(5));
    h.channel.deliver(QUEUE.mesh, body(5, { sender: 'a2', host: '127.0.0.3' }));
    h.channel.deliver(QUEUE.mesh, body(5, { sender: 'a1', host: '127.0.0.4' }));
    h.channel.deliver(QUEUE.trace, body(5, A1, keys.trace));
    h.channel.deliver(QUEUE.mesh, body(5)); // the only duplicate
    expect(h.delivered.map((d) => `${d.network}/${d.envelope.sender}@${d.envelope.host}#${d.envelope.seq}`)).toEqual([
      'mesh/a1@127.0.0.3#5',
      'mesh/a2@127.0.0.3#5',
      'mesh/a1@127.0.0.4#5',
      'trace/a1@127.0.0.3#5',
    ]);
    expect(h.receiver.counters.mesh.duplicates).toBe(1);
    expect(h.receiver.counters.trace.duplicates).toBe(0);
  });

  it('after a reconnect, drops the redeliveries it has already delivered and takes the rest', async () => {
    const h = await start();
    h.backlog.value = BACKLOG_HIGH + 1; // acks held: the broker will redeliver these
    for (const seq of [1, 2, 3]) h.channel.deliver(QUEUE.mesh, body(seq));
    turn();
    expect(h.channel.acks).toEqual([]);

    h.connection.lose();
    const model = await h.connection.connect();
    const fresh = model.channel({ consuming: QUEUE.mesh });
    for (const seq of [1, 2, 3]) fresh.deliver(QUEUE.mesh, body(seq), { redelivered: true });
    fresh.deliver(QUEUE.mesh, body(4));
    expect(seqs(h)).toEqual([1, 2, 3, 4]);
    expect(h.receiver.counters.mesh).toMatchObject({ delivered: 4, duplicates: 3 });

    h.backlog.value = 0;
    vi.advanceTimersByTime(5);
    // acks go to the live channel only: acking on the dead one would throw
    expect(h.channel.acks).toEqual([]);
    expect(fresh.acks).toEqual([{ deliveryTag: 4, allUpTo: true }]);
    expect(fresh.unacked).toEqual([]);
    expect(fresh.violations).toEqual([]);
  });
});

describe('Receiver: drops', () => {
  const payloadJson = (value: unknown, fernet = keys.mesh) => Buffer.from(fernet.encrypt(JSON.stringify(value)));
  const cases: Array<[string, string, () => Buffer]> = [
    ['a wrong key', 'decrypt', () => body(1, A1, stranger)],
    ['a corrupt token', 'token', () => Buffer.from('gAAAAA-not-a-token')],
    ['a tampered token', 'decrypt', () => {
      const b = Buffer.from(body(1));
      b[40] = b[40] === 0x41 ? 0x42 : 0x41;
      return b;
    }],
    ['plaintext that is not JSON', 'json', () => Buffer.from(keys.mesh.encrypt('not json {'))],
    ['an unknown envelope version', 'version', () => payloadJson({ v: 2, ...A1, seq: 1, ts: 1, signal: 'PING', payload: null })],
    ['an envelope missing a field', 'schema', () => payloadJson({ v: 1, ...A1, seq: 1, ts: 1, payload: null })],
    ['an oversized body', 'oversize', () => body(1, A1, keys.mesh, 'x'.repeat(4000))],
  ];

  it.each(cases)('drops %s (%s): counted by reason, reported, acked, never delivered or requeued', async (_what, reason, make) => {
    const h = await start({ maxBodyBytes: 2000 });
    h.channel.deliver(QUEUE.mesh, make(), claim());
    turn();
    expect(h.delivered).toEqual([]);
    expect(h.receiver.counters.mesh).toMatchObject({ received: 1, delivered: 0, dropped: 1, droppedBy: { [reason]: 1 } });
    expect(h.drops).toHaveLength(1);
    expect(h.drops[0]).toContain(`dropped a mesh message from a1@127.0.0.3 (${reason}:`);
    expect(h.channel.unacked).toEqual([]);
    expect(h.channel.nacks).toEqual([]);
  });

  it('reports each sender and reason once and counts the rest', async () => {
    const h = await start();
    for (let i = 0; i < 3; i++) h.channel.deliver(QUEUE.mesh, body(i, A1, stranger), claim());
    h.channel.deliver(QUEUE.mesh, Buffer.from('garbage'), claim());
    h.channel.deliver(QUEUE.mesh, body(1, A1, stranger), claim({ sender: 'a2', host: '127.0.0.3' }));
    h.channel.deliver(QUEUE.mesh, body(1, A1, stranger)); // no sender header
    h.channel.deliver(QUEUE.mesh, body(7)); // a good one still gets through
    turn();
    expect(h.receiver.counters.mesh).toMatchObject({ received: 7, delivered: 1, dropped: 6, droppedBy: { decrypt: 5, token: 1 } });
    expect(h.drops.map((d) => /from (.*) \((\w+):/.exec(d)?.slice(1).join(' '))).toEqual([
      'a1@127.0.0.3 decrypt',
      'a1@127.0.0.3 token',
      'a2@127.0.0.3 decrypt',
      'an unknown sender decrypt',
    ]);
    expect(seqs(h)).toEqual([7]);
    expect(h.channel.unacked).toEqual([]);
  });

  it('a dropped message does not move the sequence number: a later good one is delivered', async () => {
    const h = await start();
    h.channel.deliver(QUEUE.mesh, body(9, A1, stranger), claim());
    h.channel.deliver(QUEUE.mesh, body(9));
    expect(seqs(h)).toEqual([9]);
  });
});

describe('Receiver: own messages', () => {
  it('acks its own messages by the sender header without decrypting or delivering them', async () => {
    const h = await start();
    h.channel.deliver(QUEUE.mesh, Buffer.from('not even a token'), { headers: { [SENDER_HEADER]: ME } });
    h.channel.deliver(QUEUE.mesh, body(1, { sender: CHART, host: '127.0.0.2' }), { headers: { [SENDER_HEADER]: ME } });
    h.channel.deliver(QUEUE.mesh, body(1), claim());
    turn();
    expect(h.receiver.counters.mesh).toMatchObject({ received: 3, own: 2, dropped: 0, delivered: 1 });
    expect(seqs(h)).toEqual([1]);
    expect(h.drops).toEqual([]);
    expect(h.channel.unacked).toEqual([]);
  });

  it('only where the subscription asks for it (the snoop networks show our own lines)', async () => {
    const h = await start();
    h.channel.deliver(QUEUE.trace, body(1, { sender: CHART, host: '127.0.0.2' }, keys.trace), { headers: { [SENDER_HEADER]: ME } });
    expect(seqs(h, 'trace')).toEqual([1]);
    expect(h.receiver.counters.trace.own).toBe(0);
  });
});

describe('Receiver: flow control', () => {
  it('holds the acks while the chart is more than BACKLOG_HIGH behind and releases them at BACKLOG_LOW', async () => {
    const h = await start();
    h.backlog.value = BACKLOG_HIGH + 1;
    for (const seq of [1, 2, 3]) h.channel.deliver(QUEUE.mesh, body(seq));
    turn();
    expect(seqs(h)).toEqual([1, 2, 3]); // delivered to the chart, not acked
    expect(h.channel.acks).toEqual([]);
    h.channel.deliver(QUEUE.mesh, body(4));
    vi.advanceTimersByTime(1000);
    expect(h.channel.acks).toEqual([]);

    h.backlog.value = BACKLOG_LOW + 1; // draining, not drained enough
    vi.advanceTimersByTime(1000);
    expect(h.channel.acks).toEqual([]);

    h.backlog.value = BACKLOG_LOW;
    vi.advanceTimersByTime(5);
    expect(h.channel.acks).toEqual([{ deliveryTag: 4, allUpTo: true }]);
    expect(h.channel.unacked).toEqual([]);
    expect(vi.getTimerCount()).toBe(0); // no timer left once released

    // below the limit again: the next burst is acked right after it is handled
    h.channel.deliver(QUEUE.mesh, body(5));
    turn();
    expect(h.channel.acks.at(-1)).toEqual({ deliveryTag: 5, allUpTo: true });
    expect(h.channel.violations).toEqual([]);
  });

  it('acks at once at exactly BACKLOG_HIGH', async () => {
    const h = await start();
    h.backlog.value = BACKLOG_HIGH;
    h.channel.deliver(QUEUE.mesh, body(1));
    turn();
    expect(h.channel.acks).toEqual([{ deliveryTag: 1, allUpTo: true }]);
  });

  it('close() drops held acks and stops the release timer', async () => {
    const h = await start();
    h.backlog.value = BACKLOG_HIGH + 1;
    h.channel.deliver(QUEUE.mesh, body(1));
    turn();
    await h.receiver.close(false);
    h.backlog.value = 0;
    vi.advanceTimersByTime(1000);
    expect(h.channel.acks).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
    expect(h.connection.closed).toBe(true);
  });
});

describe('Receiver: close', () => {
  it('close(true) deletes its queues on a channel of its own', async () => {
    const h = await start();
    const closing = h.receiver.close(true);
    await vi.advanceTimersByTimeAsync(0);
    await closing;
    const model = h.connection.models[0];
    const deleted = model.channels.filter((c) => c !== h.channel).flatMap((c) => c.deletedQueues.filter((d) => d.options === undefined));
    expect(deleted.map((d) => d.queue)).toEqual([QUEUE.mesh, QUEUE.trace]);
    expect(h.connection.closed).toBe(true);
  });
});
