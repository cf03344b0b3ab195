// Receiver against a fake broker connection (fake-amqp.ts in place of openRecovering):
// dedup by sequence number, drops by reason, own messages, acks only after an event is
// handled (in delivery order), dead letters counted, and what a reconnect does. The ack
// release runs on vitest's fake timers.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { encodeEnvelope, type Envelope } from '../../runtime/net/envelope.ts';
import { Fernet, generateKey } from '../../runtime/net/fernet.ts';
import { PREFETCH, RESUBSCRIBED, Receiver, type ReceiverOptions } from '../../runtime/net/receiver.ts';
import { ChartInUseError } from '../../runtime/net/errors.ts';
import { DEAD_EXCHANGE, EXCHANGES, MESSAGE_TTL_MS, QUEUE_EXPIRES_MS, SENDER_HEADER, type NetworkName } from '../../runtime/net/topology.ts';
import { forgetSessions } from '../../runtime/net/session.ts';
import { fakeBrokers, type FakeChannel, type FakeConnection } from './fake-amqp.ts';

vi.mock('../../runtime/net/connection.ts', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../runtime/net/connection.ts')>()),
  openRecovering: (await import('./fake-amqp.ts')).fakeOpenRecovering,
}));

const CHART = 'b1';
const ME = `${CHART}@127.0.0.2`;
const A1 = { sender: 'a1', host: '127.0.0.3' };
const QUEUE: Record<NetworkName, string> = { mesh: `miros.mesh.${CHART}`, trace: `miros.trace.${CHART}`, spy: `miros.spy.${CHART}` };
const DEAD = `miros.dead.${CHART}`;

const keys = { mesh: new Fernet(generateKey()), trace: new Fernet(generateKey()) };
const stranger = new Fernet(generateKey());

interface Harness {
  receiver: Receiver;
  connection: FakeConnection;
  /** The consuming channel (one for every network). */
  channel: FakeChannel;
  delivered: Array<{ network: NetworkName; envelope: Envelope; handled: () => void }>;
  drops: string[];
}

/** `handleMesh: false`: mesh events wait to be handled by the test (the chart's RTC step); snoop lines never wait. */
async function start(options: Partial<ReceiverOptions> = {}, o: { handleMesh?: boolean } = {}): Promise<Harness> {
  const delivered: Harness['delivered'] = [];
  const drops: string[] = [];
  const receiver = new Receiver({
    urls: ['amqp://u:p@127.0.0.2:5672/%2F'],
    label: 'amqp://u:***@127.0.0.2:5672/%2F',
    chartName: CHART,
    host: '127.0.0.2',
    topology: 'mesh',
    messageTtl: MESSAGE_TTL_MS,
    heartbeat: 0,
    subscriptions: [
      {
        network: 'mesh',
        bindingKey: '#',
        fernet: keys.mesh,
        deliver: (envelope, handled) => {
          delivered.push({ network: 'mesh', envelope, handled });
          if (o.handleMesh !== false) handled();
        },
        skipSender: ME,
      },
      {
        network: 'trace',
        bindingKey: 'snoop.trace',
        fernet: keys.trace,
        deliver: (envelope, handled) => {
          delivered.push({ network: 'trace', envelope, handled });
          handled();
        },
      },
    ],
    onDrop: (m) => drops.push(m),
    // the envelopes built here name no destination (the binding has tests of its own: receiver-security.test.ts)
    acceptUnbound: true,
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
  forgetSessions();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('Receiver: delivery and acks', () => {
  it('declares its queues with dead-lettering, consumes them exclusively, and never deletes what a previous run left', async () => {
    const h = await start();
    const first = h.connection.current!;
    expect(first.channels.flatMap((c) => c.deletedQueues)).toEqual([]); // a restart finds its queue again
    expect(first.channel({ consuming: QUEUE.trace })).toBe(h.channel); // one channel for every network
    expect(h.channel.prefetchCount).toBe(PREFETCH);
    expect(h.channel.queues.get(QUEUE.mesh)).toEqual({
      durable: true,
      arguments: {
        'x-message-ttl': MESSAGE_TTL_MS,
        'x-expires': QUEUE_EXPIRES_MS,
        'x-dead-letter-exchange': DEAD_EXCHANGE,
        'x-dead-letter-routing-key': QUEUE.mesh,
      },
    });
    expect(h.channel.bindings).toEqual([
      { queue: QUEUE.mesh, exchange: EXCHANGES.mesh, pattern: '#' },
      { queue: DEAD, exchange: DEAD_EXCHANGE, pattern: QUEUE.mesh },
      { queue: QUEUE.trace, exchange: EXCHANGES.trace, pattern: 'snoop.trace' },
      { queue: DEAD, exchange: DEAD_EXCHANGE, pattern: QUEUE.trace },
    ]);
    expect(h.channel.consumers.map((c) => [c.queue, c.options?.exclusive])).toEqual([
      [QUEUE.mesh, true],
      [QUEUE.trace, true],
      [DEAD, false],
    ]);

    h.connection.lose();
    const second = await h.connection.connect();
    expect(second.channels.flatMap((c) => c.deletedQueues)).toEqual([]);
    expect(second.channel({ consuming: QUEUE.mesh }).consumers).toHaveLength(3);
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

  // amqplib throws IllegalOperationError('Channel closing') from ack() between the broker's
  // channel.close and the 'close' event; the flush runs in a setImmediate, so the throw crashed
  // the process (seen in a clustered chaos run while a queue was deleted)
  it('an ack that meets a closing channel is given up (the broker requeues what was unacked), not thrown', async () => {
    const h = await start({}, { handleMesh: false });
    for (const seq of [1, 2]) h.channel.deliver(QUEUE.mesh, body(seq), claim());
    h.channel.closed = true; // closing: 'close' not emitted yet
    for (const d of h.delivered) d.handled();
    expect(() => turn()).not.toThrow();
    expect(h.channel.acks).toEqual([]);
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
          deliver: (e, handled) => {
            seen.push(e.seq);
            if (e.seq === 1) throw new Error('boom');
            handled();
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
    const h = await start({}, { handleMesh: false });
    for (const seq of [1, 2, 3]) h.channel.deliver(QUEUE.mesh, body(seq)); // not handled yet: not acked
    turn();
    expect(h.channel.acks).toEqual([]);

    h.connection.lose();
    const model = await h.connection.connect();
    const fresh = model.channel({ consuming: QUEUE.mesh });
    for (const seq of [1, 2, 3]) fresh.deliver(QUEUE.mesh, body(seq), { redelivered: true });
    fresh.deliver(QUEUE.mesh, body(4));
    expect(seqs(h)).toEqual([1, 2, 3, 4]);
    expect(h.receiver.counters.mesh).toMatchObject({ delivered: 4, duplicates: 3, redelivered: 3 });

    for (const d of h.delivered) d.handled(); // the old channel's handled events: too late for it
    turn();
    // acks go to the live channel only: acking on the dead one would throw
    expect(h.channel.acks).toEqual([]);
    expect(fresh.acks).toEqual([{ deliveryTag: 4, allUpTo: true }]);
    expect(fresh.unacked).toEqual([]);
    expect(fresh.violations).toEqual([]);
  });
});

describe('Receiver: redeliveries after a reconnect (reconnect, then crash)', () => {
  it('never acks a redelivered copy while the original is still unhandled in the chart', async () => {
    const h = await start({}, { handleMesh: false });
    for (const seq of [1, 2, 3]) h.channel.deliver(QUEUE.mesh, body(seq)); // in the chart's queue, not handled
    turn();
    h.connection.lose(); // the consuming connection drops: the originals' acks died with its channel
    const model = await h.connection.connect();
    const fresh = model.channel({ consuming: QUEUE.mesh });
    for (const seq of [1, 2, 3]) fresh.deliver(QUEUE.mesh, body(seq), { redelivered: true });
    turn();
    expect(h.receiver.counters.mesh).toMatchObject({ delivered: 3, duplicates: 3, redelivered: 3 });
    // a SIGKILL now must leave the backlog in the queue: nothing acked on the live channel
    expect(fresh.acks).toEqual([]);
    expect(fresh.unacked).toEqual([1, 2, 3]);

    h.delivered[0].handled(); // the chart's step for event 1 ends: its copy may go (acked with the next batch)
    turn();
    expect(fresh.unacked).toEqual(expect.arrayContaining([2, 3])); // 2 and 3 still wait in the chart
    h.delivered[1].handled();
    h.delivered[2].handled();
    turn();
    expect(fresh.acks.at(-1)).toEqual({ deliveryTag: 3, allUpTo: true });
    expect(fresh.unacked).toEqual([]);
    expect(fresh.violations).toEqual([]);
  });

  it('a crash after the reconnect (before the chart drains) loses nothing: the next consumer gets the backlog again', async () => {
    const h = await start({}, { handleMesh: false });
    for (const seq of [1, 2]) h.channel.deliver(QUEUE.mesh, body(seq));
    h.connection.lose();
    const fresh = (await h.connection.connect()).channel({ consuming: QUEUE.mesh });
    for (const seq of [1, 2]) fresh.deliver(QUEUE.mesh, body(seq), { redelivered: true });
    fresh.deliver(QUEUE.mesh, body(3));
    turn();
    await h.receiver.close(false); // the process dies before its chart handled anything
    expect(fresh.acks).toEqual([]); // so the broker still holds 1, 2 and 3
  });
});

describe('Receiver: sender incarnations', () => {
  const BASE = 1_700_000_000_000_000; // a sender's seq base: its wall clock in µs at start
  const HALF_HOUR_US = 30 * 60 * 1_000_000;
  /** An envelope of a node that carries its incarnation id (iid): raw JSON, as a newer node sends it. */
  const withIid = (seq: number, iid: string | undefined, inc: number) =>
    Buffer.from(keys.mesh.encrypt(JSON.stringify({ v: 1, ...A1, seq, ts: 1_700_000_000_000, signal: 'PING', payload: { n: seq }, lc: 1, inc, ...(iid ? { iid } : {}) })));

  it('hears at once a sender restarted with its wall clock 30 minutes behind (a new incarnation, a new window)', async () => {
    const h = await start();
    for (let k = 1; k <= 3; k++) h.channel.deliver(QUEUE.mesh, withIid(BASE + k, '0123456789abcdef', BASE));
    const behind = BASE - HALF_HOUR_US; // the restart's clock stepped back: its numbers are below the old window
    for (let k = 1; k <= 3; k++) h.channel.deliver(QUEUE.mesh, withIid(behind + k, 'fedcba9876543210', behind));
    turn();
    expect(seqs(h)).toEqual([1, 2, 3].map((k) => BASE + k).concat([1, 2, 3].map((k) => behind + k)));
    expect(h.receiver.counters.mesh).toMatchObject({ delivered: 6, duplicates: 0 });
    // a copy of the first incarnation's event is still a duplicate
    h.channel.deliver(QUEUE.mesh, withIid(BASE + 2, '0123456789abcdef', BASE));
    expect(h.receiver.counters.mesh.duplicates).toBe(1);
  });

  it('envelopes without an incarnation are deduplicated as today: by sender and host (a clock stepped back mutes it)', async () => {
    const h = await start();
    h.channel.deliver(QUEUE.mesh, withIid(BASE + 1, undefined, BASE));
    h.channel.deliver(QUEUE.mesh, withIid(BASE - HALF_HOUR_US + 1, undefined, BASE - HALF_HOUR_US));
    expect(seqs(h)).toEqual([BASE + 1]);
    expect(h.receiver.counters.mesh.duplicates).toBe(1);
  });
});

describe('Receiver: drops', () => {
  const payloadJson = (value: unknown, fernet = keys.mesh) => Buffer.from(fernet.encrypt(JSON.stringify(value)));
  const cases: Array<[string, string, () => Buffer]> = [
    ['a wrong key', 'undecryptable', () => body(1, A1, stranger)],
    ['a corrupt token', 'token', () => Buffer.from('gAAAAA-not-a-token')],
    ['a tampered token', 'undecryptable', () => {
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

  it('counts a message no key opens under one name, droppedBy.undecryptable (as networkStats().drops names it)', async () => {
    const h = await start();
    h.channel.deliver(QUEUE.mesh, body(1, A1, stranger), claim());
    turn();
    expect(h.receiver.counters.mesh.droppedBy).toEqual({ undecryptable: 1 });
  });

  it('reports each sender and reason once and counts the rest', async () => {
    const h = await start();
    for (let i = 0; i < 3; i++) h.channel.deliver(QUEUE.mesh, body(i, A1, stranger), claim());
    h.channel.deliver(QUEUE.mesh, Buffer.from('garbage'), claim());
    h.channel.deliver(QUEUE.mesh, body(1, A1, stranger), claim({ sender: 'a2', host: '127.0.0.3' }));
    h.channel.deliver(QUEUE.mesh, body(1, A1, stranger)); // no sender header
    h.channel.deliver(QUEUE.mesh, body(7)); // a good one still gets through
    turn();
    expect(h.receiver.counters.mesh).toMatchObject({ received: 7, delivered: 1, dropped: 6, droppedBy: { undecryptable: 5, token: 1 } });
    expect(h.drops.map((d) => /from (.*) \((\w+):/.exec(d)?.slice(1).join(' '))).toEqual([
      'a1@127.0.0.3 undecryptable',
      'a1@127.0.0.3 token',
      'a2@127.0.0.3 undecryptable',
      'an unknown sender undecryptable',
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

describe('Receiver: acks after handling', () => {
  it('acks a mesh event only once the chart has handled it, and only the handled prefix', async () => {
    const h = await start({}, { handleMesh: false });
    for (const seq of [1, 2, 3]) h.channel.deliver(QUEUE.mesh, body(seq));
    turn();
    expect(seqs(h)).toEqual([1, 2, 3]); // in the chart's queue, not handled: not acked
    expect(h.channel.acks).toEqual([]);
    h.delivered[1].handled(); // out of order: 1 still waits, so nothing may be acked
    turn();
    expect(h.channel.acks).toEqual([]);
    h.delivered[0].handled();
    turn();
    expect(h.channel.acks).toEqual([]); // 1 and 2 handled, 3 still in the chart: acked with it (ack-tracker's batch)
    h.delivered[2].handled();
    h.delivered[2].handled(); // idempotent
    turn();
    expect(h.channel.acks).toEqual([{ deliveryTag: 3, allUpTo: true }]); // caught up: one ack for all three
    expect(h.channel.unacked).toEqual([]);
    expect(h.channel.violations).toEqual([]);
    expect(vi.getTimerCount()).toBe(0); // no polling timer
  });

  it('a snoop line or a duplicate behind an unhandled mesh event waits for it (acks cover everything before them)', async () => {
    const h = await start({}, { handleMesh: false });
    h.channel.deliver(QUEUE.mesh, body(1));
    h.channel.deliver(QUEUE.trace, body(1, A1, keys.trace));
    h.channel.deliver(QUEUE.mesh, body(1)); // duplicate
    turn();
    expect(h.channel.acks).toEqual([]);
    h.delivered[0].handled();
    turn();
    expect(h.channel.acks).toEqual([{ deliveryTag: 3, allUpTo: true }]);
  });

  it('close() discards what is not acked: the broker redelivers it to the next consumer', async () => {
    const h = await start({}, { handleMesh: false });
    h.channel.deliver(QUEUE.mesh, body(1));
    turn();
    await h.receiver.close(false);
    h.delivered[0].handled();
    turn();
    expect(h.channel.acks).toEqual([]);
    expect(h.connection.closed).toBe(true);
  });
});

describe('Receiver: dead letters', () => {
  it('counts what expired in its queues by network and reason, reports it once, and acks it', async () => {
    const h = await start();
    const dead = (queue: string) => ({
      routingKey: queue,
      headers: { [SENDER_HEADER]: 'a1@127.0.0.3', 'x-death': [{ reason: 'expired' as const, queue, count: 1, time: { '!': 'timestamp' as const, value: 0 }, exchange: EXCHANGES.mesh, 'routing-keys': ['#'] }] },
    });
    h.channel.deliver(DEAD, body(1), dead(QUEUE.mesh));
    h.channel.deliver(DEAD, body(2), dead(QUEUE.mesh));
    h.channel.deliver(DEAD, body(3, A1, keys.trace), dead(QUEUE.trace));
    turn();
    expect(h.delivered).toEqual([]);
    expect(h.receiver.counters.mesh).toMatchObject({ received: 2, delivered: 0, dropped: 2, droppedBy: { expired: 2 } });
    expect(h.receiver.counters.trace).toMatchObject({ dropped: 1, droppedBy: { expired: 1 } });
    expect(h.drops).toHaveLength(2);
    expect(h.drops[0]).toContain(`dropped a mesh message from a1@127.0.0.3 (expired: the broker expired it after ${MESSAGE_TTL_MS} ms`);
    expect(h.channel.unacked).toEqual([]);
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
    expect(deleted.map((d) => d.queue)).toEqual([QUEUE.mesh, QUEUE.trace, DEAD]);
    expect(h.connection.closed).toBe(true);
  });
});

describe('Receiver: a consumer the broker cancels', () => {
  it('declares its queue again and consumes again (retry policy), warns, shows it in its state and counts it', async () => {
    const warnings: string[] = [];
    const h = await start({ onWarning: (m) => warnings.push(m) });
    const receiver = h.receiver;
    h.channel.cancelConsumer(QUEUE.mesh); // an operator deleted the chart's queue
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`${CHART}: the broker cancelled its consumer of ${QUEUE.mesh}`);
    expect(receiver.snapshot()).toMatchObject({ state: 'resubscribing', cancels: 1 });
    await vi.advanceTimersByTimeAsync(300); // the retry policy's first delay, ~100 ms
    const again = h.connection.current!.channel({ consuming: QUEUE.mesh });
    expect(again.queues.has(QUEUE.mesh)).toBe(true); // declared again
    expect(again.consumers.map((c) => c.queue)).toEqual([QUEUE.mesh, QUEUE.trace, DEAD]);
    again.deliver(QUEUE.mesh, body(7));
    turn();
    expect(seqs(h)).toEqual([7]); // no deaf chart
    expect(h.receiver.counters.mesh).toMatchObject({ cancelled: 1 });
    expect(receiver.snapshot()).toMatchObject({ state: 'up', cancels: 1 });
  });

  it('says when it consumes again after the cancel (the end of the gap in which the broker routed its events nowhere), once', async () => {
    const warnings: string[] = [];
    const h = await start({ onWarning: (m) => warnings.push(m) });
    await vi.advanceTimersByTimeAsync(1000);
    expect(warnings).toEqual([]); // the first setup is no restore
    h.channel.cancelConsumer(QUEUE.mesh);
    expect(warnings).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(300);
    expect(h.connection.current!.channel({ consuming: QUEUE.mesh }).queues.has(QUEUE.mesh)).toBe(true);
    expect(warnings).toHaveLength(2);
    expect(warnings[1]).toMatch(new RegExp(`^${CHART}: ${RESUBSCRIBED} \\(${QUEUE.mesh.replace(/[.]/g, '\\.')}, .*\\) \\d+ ms after the broker's cancel$`));
    await vi.advanceTimersByTimeAsync(5000);
    expect(warnings).toHaveLength(2);
  });
});

describe('Receiver: one live chart of a name per host', () => {
  it('a second chart of the same name in this process is refused at once, clearly; after the first stops it may start', async () => {
    const h = await start();
    const again = new Receiver({ ...(h.receiver as unknown as { options: ReceiverOptions }).options });
    await expect(again.open(1000)).rejects.toThrow(ChartInUseError);
    await expect(again.open(1000)).rejects.toThrow(`chart ${CHART}: this process already runs a chart of that name on host 127.0.0.2`);
    await h.receiver.close(false);
    const opened = again.open(1000);
    await fakeBrokers.connections.at(-1)!.connect();
    await opened;
    await again.close(false);
  });

  it('clustered: declares an exclusive lock queue before it consumes (single active consumer would let a second process in)', async () => {
    const receiver = new Receiver({
      urls: ['amqp://u:p@127.0.0.2:5672/%2F'],
      label: 'cluster',
      chartName: CHART,
      host: '127.0.0.2',
      topology: 'clustered',
      messageTtl: MESSAGE_TTL_MS,
      heartbeat: 0,
      subscriptions: [{ network: 'mesh', bindingKey: '#', fernet: keys.mesh, deliver: (_e, handled) => handled() }],
      onDrop: () => undefined,
    });
    const opened = receiver.open(1000);
    const model = await fakeBrokers.connections.at(-1)!.connect();
    await opened;
    const channel = model.channel({ consuming: `miros.mesh.${CHART}@127.0.0.2` });
    expect(channel.queues.get(`miros.lock.${CHART}@127.0.0.2`)).toEqual({ exclusive: true, durable: false, arguments: { 'x-queue-type': 'classic' } });
    expect([...channel.queues.keys()][0]).toBe(`miros.lock.${CHART}@127.0.0.2`); // before any queue it consumes
  });
});

describe('Receiver: one consuming connection per process', () => {
  const other = (name: string, into: Array<{ seq: number }> = []): Receiver =>
    new Receiver({
      urls: ['amqp://u:p@127.0.0.2:5672/%2F'],
      label: 'amqp://u:***@127.0.0.2:5672/%2F',
      chartName: name,
      host: '127.0.0.2',
      topology: 'mesh',
      messageTtl: MESSAGE_TTL_MS,
      heartbeat: 0,
      subscriptions: [{ network: 'mesh', bindingKey: '#', fernet: keys.mesh, deliver: (e, handled) => (into.push({ seq: e.seq }), handled()) }],
      onDrop: () => undefined,
      acceptUnbound: true,
    });

  it('a second chart takes a channel of its own on the same connection; its stop cancels and deletes only its own', async () => {
    const h = await start();
    const got: Array<{ seq: number }> = [];
    const b2 = other('b2', got);
    await b2.open(1000);
    expect(fakeBrokers.connections).toHaveLength(1); // no second connection
    const model = h.connection.current!;
    const c2 = model.channel({ consuming: 'miros.mesh.b2' });
    expect(c2).not.toBe(h.channel);
    c2.deliver('miros.mesh.b2', body(1));
    turn();
    expect(got).toEqual([{ seq: 1 }]);

    const closing = b2.close(true);
    await vi.advanceTimersByTimeAsync(0);
    await closing;
    expect(c2.closed).toBe(true); // its consumers cancelled
    expect(h.channel.closed).toBe(false); // b1 consumes on
    expect(h.connection.closed).toBe(false);
    const deleted = model.channels.flatMap((c) => c.deletedQueues.map((d) => d.queue));
    expect(deleted).toEqual(['miros.mesh.b2', 'miros.dead.b2']);

    h.channel.deliver(QUEUE.mesh, body(2));
    turn();
    expect(seqs(h)).toEqual([2]);
    await h.receiver.close(false);
    expect(h.connection.closed).toBe(true); // the last one out closes it
  });

  it('both charts are set up again on a reconnect', async () => {
    const h = await start();
    await other('b2').open(1000);
    h.connection.lose();
    const second = await h.connection.connect();
    expect(second.channel({ consuming: QUEUE.mesh })).not.toBe(second.channel({ consuming: 'miros.mesh.b2' }));
  });

  it('a channel the broker closes while the connection lives is set up again (no deaf chart)', async () => {
    const h = await start();
    h.channel.lose();
    expect(() => h.connection.current!.channel({ consuming: QUEUE.mesh })).toThrow();
    await vi.advanceTimersByTimeAsync(300); // the retry policy's first delay, ~100 ms
    const again = h.connection.current!.channel({ consuming: QUEUE.mesh });
    expect(again).not.toBe(h.channel);
    again.deliver(QUEUE.mesh, body(7));
    turn();
    expect(seqs(h)).toEqual([7]);
  });
});
