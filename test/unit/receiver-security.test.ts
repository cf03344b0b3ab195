// The receiver's admission (issue 22, SECURITY.md) against a fake broker connection and
// vitest's fake clock: an event published again with another routing key is misrouted; one
// without a destination is dropped unless acceptUnbound; a token older than the replay bound is
// a replay, measured against the sender's own clock, so a sender restarted with its clock
// 30 minutes behind is still heard. And the bookkeeping that sender names grow is bounded.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { envelopePlaintext, type Envelope } from '../../runtime/net/envelope.ts';
import { Fernet, generateKey } from '../../runtime/net/fernet.ts';
import { MAX_REPORTED, Receiver, type ReceiverOptions } from '../../runtime/net/receiver.ts';
import { forgetSessions } from '../../runtime/net/session.ts';
import { MESSAGE_TTL_MS, SENDER_HEADER } from '../../runtime/net/topology.ts';
import { fakeBrokers, type FakeChannel } from './fake-amqp.ts';

vi.mock('../../runtime/net/connection.ts', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../runtime/net/connection.ts')>()),
  openRecovering: (await import('./fake-amqp.ts')).fakeOpenRecovering,
}));

const QUEUE = 'miros.mesh.b1';
const KEY = new Fernet(generateKey());
const SKEW_MS = 60_000;
const BOUND_MS = MESSAGE_TTL_MS + SKEW_MS;
const MINUTE = 60_000;

interface Harness {
  receiver: Receiver;
  channel: FakeChannel;
  delivered: Envelope[];
  drops: string[];
}

async function start(options: Partial<ReceiverOptions> = {}): Promise<Harness> {
  const delivered: Envelope[] = [];
  const drops: string[] = [];
  const receiver = new Receiver({
    urls: ['amqp://u:p@127.0.0.2:5672/%2F'],
    label: 'amqp://u:***@127.0.0.2:5672/%2F',
    chartName: 'b1',
    host: '127.0.0.2',
    topology: 'mesh',
    messageTtl: MESSAGE_TTL_MS,
    clockSkewMs: SKEW_MS,
    heartbeat: 0,
    subscriptions: [{ network: 'mesh', bindingKey: 'valve.#', fernet: KEY, deliver: (e, handled) => (delivered.push(e), handled()) }],
    onDrop: (m) => drops.push(m),
    ...options,
  });
  const opened = receiver.open(1000);
  const model = await fakeBrokers.connections.at(-1)!.connect();
  await opened;
  return { receiver, channel: model.channel({ consuming: QUEUE }), delivered, drops };
}

interface Send {
  seq: number;
  sender?: string;
  inc?: number;
  /** The sender's clock when it encrypted, ms (default: now). */
  at?: number;
  /** The destination inside the token; null: none (a sender that predates the binding). */
  rk?: string | null;
}

/** A body as a sender stamps it: the Fernet timestamp is the sender's clock at `at`. */
function body(s: Send): Buffer {
  const rk = s.rk === undefined ? 'valve.one' : s.rk;
  const env = {
    sender: s.sender ?? 'a1',
    host: '127.0.0.3',
    seq: s.seq,
    ts: s.at ?? Date.now(),
    signal: 'OPEN',
    payload: null,
    ...(s.inc !== undefined ? { inc: s.inc } : {}),
    ...(rk !== null ? { net: 'mesh', rk } : {}),
  };
  return KEY.encryptToBuffer(envelopePlaintext(env), { time: Math.floor((s.at ?? Date.now()) / 1000) });
}

const deliver = (h: Harness, content: Buffer, routingKey = 'valve.one', sender = 'a1') =>
  h.channel.deliver(QUEUE, content, { routingKey, headers: { [SENDER_HEADER]: `${sender}@127.0.0.3` } });

beforeEach(() => {
  vi.useFakeTimers({ now: new Date('2026-12-07T01:00:00Z') });
  fakeBrokers.reset();
  forgetSessions();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('Receiver: the authenticated destination', () => {
  it('drops copies published again with another routing key as misrouted, reporting once, and still delivers the original', async () => {
    const h = await start();
    const original = body({ seq: 1 });
    deliver(h, original, 'valve.one');
    for (let i = 0; i < 5; i++) deliver(h, original, 'valve.two');
    expect(h.delivered.map((e) => e.seq)).toEqual([1]);
    expect(h.receiver.counters.mesh).toMatchObject({ received: 6, delivered: 1, duplicates: 0, dropped: 5, droppedBy: { misrouted: 5 } });
    expect(h.drops).toHaveLength(1);
    expect(h.drops[0]).toMatch(/misrouted: sent on mesh with routing key "valve.one", arrived on mesh with routing key "valve.two"/);
  });

  it('drops an envelope bound to another network (a trace token replayed onto the mesh exchange)', async () => {
    const h = await start();
    const plain = envelopePlaintext({ sender: 'a1', host: '127.0.0.3', seq: 1, ts: Date.now(), signal: 'OPEN', payload: null, net: 'trace', rk: 'valve.one' });
    deliver(h, KEY.encryptToBuffer(plain));
    expect(h.delivered).toEqual([]);
    expect(h.receiver.counters.mesh.droppedBy).toEqual({ misrouted: 1 });
  });

  it('drops an envelope without a destination as unbound, unless acceptUnbound', async () => {
    const strict = await start();
    deliver(strict, body({ seq: 1, rk: null }));
    expect(strict.delivered).toEqual([]);
    expect(strict.receiver.counters.mesh.droppedBy).toEqual({ unbound: 1 });
    expect(strict.drops[0]).toMatch(/acceptUnbound/);
    await strict.receiver.close(false);

    forgetSessions();
    const lenient = await start({ acceptUnbound: true });
    deliver(lenient, body({ seq: 1, rk: null }));
    expect(lenient.delivered.map((e) => e.seq)).toEqual([1]);
    // a bound envelope is still checked with acceptUnbound on
    deliver(lenient, body({ seq: 2 }), 'valve.two');
    expect(lenient.receiver.counters.mesh.droppedBy).toEqual({ misrouted: 1 });
  });
});

describe('Receiver: the replay bound', () => {
  it('drops the same bytes replayed after the bound, counted as replay (not as a duplicate)', async () => {
    const h = await start();
    const captured = body({ seq: 1, inc: 1000 });
    deliver(h, captured);
    vi.advanceTimersByTime(10_000);
    deliver(h, body({ seq: 2, inc: 1000 })); // the sender goes on
    vi.advanceTimersByTime(BOUND_MS + 2000);
    deliver(h, captured);
    expect(h.delivered.map((e) => e.seq)).toEqual([1, 2]);
    expect(h.receiver.counters.mesh).toMatchObject({ duplicates: 0, dropped: 1, droppedBy: { replay: 1 } });
  });

  it('a restarted receiver (no dedup windows) refuses a capture older than the bound', async () => {
    const captured = body({ seq: 1, inc: 1000 });
    vi.advanceTimersByTime(BOUND_MS + 2000);
    const h = await start();
    deliver(h, captured);
    expect(h.delivered).toEqual([]);
    expect(h.receiver.counters.mesh.droppedBy).toEqual({ replay: 1 });
    // within the bound it is taken (the broker's messageTtl keeps what waits in a queue younger)
    deliver(h, body({ seq: 2, inc: 1000, at: Date.now() - MESSAGE_TTL_MS }));
    expect(h.delivered.map((e) => e.seq)).toEqual([2]);
  });

  it('hears a sender restarted with its clock 30 minutes behind, and one whose clock runs ahead', async () => {
    const h = await start();
    for (const seq of [1, 2]) deliver(h, body({ seq, inc: 5000 }));
    // the sender restarts: a new incarnation, its clock now 30 minutes behind ours, for good
    // (sequence numbers go on above the old ones here: dedup across incarnations is not this test's business)
    const behind = () => Date.now() - 30 * MINUTE;
    vi.advanceTimersByTime(5000);
    for (const seq of [11, 12, 13]) {
      deliver(h, body({ seq, inc: 4000, at: behind() }));
      vi.advanceTimersByTime(20_000);
    }
    // it goes on for longer than the bound: still heard, each token measured against its own clock
    vi.advanceTimersByTime(BOUND_MS);
    deliver(h, body({ seq: 14, inc: 4000, at: behind() }));
    expect(h.delivered.map((e) => `${e.inc}:${e.seq}`)).toEqual(['5000:1', '5000:2', '4000:11', '4000:12', '4000:13', '4000:14']);
    expect(h.receiver.counters.mesh.dropped).toBe(0);
    expect(h.receiver.bookkeeping.replayReanchored).toBe(1);

    // ... and its own old token, replayed after the bound, is still a replay in its clock
    const old = body({ seq: 15, inc: 4000, at: behind() });
    deliver(h, body({ seq: 16, inc: 4000, at: behind() }));
    vi.advanceTimersByTime(BOUND_MS + 2000);
    deliver(h, body({ seq: 17, inc: 4000, at: behind() }));
    deliver(h, old);
    expect(h.receiver.counters.mesh.droppedBy).toEqual({ replay: 1 });

    // a sender whose clock runs 10 minutes ahead (future-dated tokens) is heard too
    deliver(h, body({ seq: 1, sender: 'ahead', inc: 1, at: Date.now() + 10 * MINUTE }), 'valve.one', 'ahead');
    expect(h.delivered.at(-1)).toMatchObject({ sender: 'ahead', seq: 1 });
  });
});

describe('Receiver: bounded bookkeeping', () => {
  it('sheds the oldest once-per-sender reports beyond MAX_REPORTED and counts them', async () => {
    const h = await start();
    const senders = MAX_REPORTED + 50;
    for (let i = 0; i < senders; i++) deliver(h, body({ seq: 1, sender: `s${i}` }), 'valve.two', `s${i}`);
    expect(h.receiver.counters.mesh.droppedBy).toEqual({ misrouted: senders });
    expect(h.drops).toHaveLength(senders); // each sender reported once
    expect(h.receiver.bookkeeping.reportsShed).toBe(50);
    // a shed sender is reported again rather than remembered forever
    deliver(h, body({ seq: 2, sender: 's0' }), 'valve.two', 's0');
    expect(h.drops).toHaveLength(senders + 1);
  });
});
