// Outbox against a fake confirm channel: order, resend after a channel loss, nacks,
// the bound, drain and settled(). Time (the nack retry, settled's timeout) runs on
// vitest's fake timers.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { OutboxOverflowError } from '../../runtime/net/errors.ts';
import { Outbox, nackDelayMs, type OutboxMessage } from '../../runtime/net/outbox.ts';
import { FakeChannel } from './fake-amqp.ts';

const message = (n: number): OutboxMessage => ({
  exchange: 'miros.mesh.exchange',
  routingKey: 'empty',
  content: Buffer.from(`m${n}`),
  options: { persistent: true },
});
const names = (...ns: number[]) => ns.map((n) => `m${n}`);
/** Bodies the broker confirmed, over every channel, in the order of the channels and publishes. */
const confirmedBodies = (...channels: FakeChannel[]) =>
  channels.flatMap((c) => c.published.filter((r) => r.state === 'acked').map((r) => r.content.toString()));
/** Lets promise callbacks run without moving (fake) time. */
const microtasks = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

beforeEach(() => {
  vi.useFakeTimers();
  vi.spyOn(Math, 'random').mockReturnValue(0.5); // the retry policy's jitter at its middle: delays are exact
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('Outbox: order and resend', () => {
  it('holds messages while no channel is attached and sends them in order once one is', () => {
    const outbox = new Outbox('b', 10);
    for (const n of [1, 2, 3]) outbox.push(message(n));
    expect(outbox.snapshot()).toMatchObject({ queued: 3, inFlight: 0, sent: 0 });

    const channel = new FakeChannel(true);
    outbox.attach(channel);
    expect(channel.bodies).toEqual(names(1, 2, 3));
    expect(channel.published.map((r) => [r.exchange, r.routingKey, r.options?.persistent])).toEqual(
      Array(3).fill(['miros.mesh.exchange', 'empty', true]),
    );
    expect(outbox.snapshot()).toMatchObject({ queued: 0, inFlight: 3, sent: 3, confirmed: 0 });

    channel.confirmAll();
    expect(outbox.size).toBe(0);
    expect(outbox.snapshot()).toMatchObject({ queued: 0, inFlight: 0, sent: 3, confirmed: 3, resent: 0, nacked: 0 });
  });

  it('resends what a lost channel did not confirm, first and in order, on the next channel', () => {
    const outbox = new Outbox('b', 10);
    const first = new FakeChannel(true);
    outbox.attach(first);
    for (const n of [1, 2, 3, 4]) outbox.push(message(n));
    first.confirm(1);
    first.confirm(3); // confirms may come out of order
    first.lose();
    outbox.push(message(5)); // while the broker is away
    expect(outbox.snapshot()).toMatchObject({ queued: 3, inFlight: 0, confirmed: 2, resent: 0 }); // counted when sent again

    const second = new FakeChannel(true);
    outbox.attach(second);
    expect(second.bodies).toEqual(names(2)); // the canary: a fresh channel is not yet known to be accepting
    second.confirm(1);
    expect(second.bodies).toEqual(names(2, 4, 5));
    second.confirmAll();
    // none lost, none confirmed twice
    expect(confirmedBodies(first, second).sort()).toEqual(names(1, 2, 3, 4, 5));
    expect(outbox.snapshot()).toMatchObject({ queued: 0, inFlight: 0, sent: 7, confirmed: 5, resent: 2, resentBy: { lost: 2, nack: 0, stalled: 0 } });
  });

  it('survives several channel losses in a row without losing or reordering anything', () => {
    const outbox = new Outbox('b', 100);
    const channels: FakeChannel[] = [];
    let next = 1;
    for (let round = 0; round < 5; round++) {
      const channel = new FakeChannel(true);
      channels.push(channel);
      outbox.attach(channel);
      for (let i = 0; i < 3; i++) outbox.push(message(next++));
      channel.confirm(channel.pending[0].tag); // only the oldest one gets through each time
      channel.lose();
    }
    const last = new FakeChannel(true);
    outbox.attach(last);
    last.confirm(1); // the canary
    // what is left goes out in the order it was pushed
    const left = last.bodies.map((b) => Number(b.slice(1)));
    expect(left).toEqual([...left].sort((a, b) => a - b));
    last.confirmAll();
    expect(confirmedBodies(...channels, last).sort()).toEqual(names(...Array.from({ length: 15 }, (_, i) => i + 1)).sort());
    expect(outbox.size).toBe(0);
  });

  it('does not count a lost channel as a nack', () => {
    // amqplib fails every unconfirmed publish with "channel closed" before other 'close' listeners run
    const outbox = new Outbox('b', 10);
    const channel = new FakeChannel(true);
    outbox.attach(channel);
    for (const n of [1, 2]) outbox.push(message(n));
    channel.lose();
    expect(outbox.snapshot()).toMatchObject({ nacked: 0, resent: 0, queued: 2 });
    expect(vi.getTimerCount()).toBe(0); // no nack retry scheduled for a dead channel
  });

  it('waits for drain when the write buffer is full, then goes on in order', () => {
    const outbox = new Outbox('b', 10);
    const channel = new FakeChannel(true);
    channel.full = true;
    outbox.attach(channel);
    outbox.push(message(1)); // taken, but publish() answers false
    outbox.push(message(2));
    outbox.push(message(3));
    expect(channel.bodies).toEqual(names(1));
    expect(outbox.snapshot()).toMatchObject({ queued: 2, inFlight: 1 });
    channel.drain();
    expect(channel.bodies).toEqual(names(1, 2, 3));
  });

  it('ignores drain and confirms of a channel it has left', () => {
    const outbox = new Outbox('b', 10);
    const old = new FakeChannel(true);
    old.full = true;
    outbox.attach(old);
    outbox.push(message(1));
    outbox.push(message(2));
    outbox.detach(); // BrokerLink on 'disconnect'
    old.confirm(1); // a late confirm: m1 is already queued again
    expect(outbox.snapshot()).toMatchObject({ queued: 2, confirmed: 0 });

    const fresh = new FakeChannel(true);
    fresh.full = true;
    outbox.attach(fresh);
    expect(fresh.bodies).toEqual(names(1)); // and waits for fresh's drain
    old.drain();
    expect(fresh.bodies).toEqual(names(1));
    fresh.drain();
    expect(fresh.bodies).toEqual(names(1)); // the canary's confirm comes first
    fresh.confirm(1);
    expect(fresh.bodies).toEqual(names(1, 2));
  });
});

describe('Outbox: nacks', () => {
  it('takes back only the nacked message and sends it again first, 4 s later, alone until it is confirmed; the other confirms still count', () => {
    const outbox = new Outbox('b', 10);
    const channel = new FakeChannel(true);
    outbox.attach(channel);
    for (const n of [1, 2, 3, 4]) outbox.push(message(n));
    channel.confirm(1);
    channel.nackPublish(3);
    expect(outbox.snapshot()).toMatchObject({ nacked: 1, queued: 1, inFlight: 2, resent: 0 });

    channel.confirm(2); // confirms after a nack count
    expect(outbox.snapshot()).toMatchObject({ confirmed: 2, queued: 1, inFlight: 1 });
    outbox.push(message(5)); // waits behind the one going again

    vi.advanceTimersByTime(3999);
    expect(channel.bodies).toEqual(names(1, 2, 3, 4));
    vi.advanceTimersByTime(1);
    expect(channel.bodies).toEqual(names(1, 2, 3, 4, 3)); // the canary: m5 waits for its confirm
    channel.confirm(4);
    expect(channel.bodies).toEqual(names(1, 2, 3, 4, 3)); // m4 was sent before the nack: no proof
    channel.confirm(5);
    expect(channel.bodies).toEqual(names(1, 2, 3, 4, 3, 5));

    channel.confirmAll();
    expect(outbox.size).toBe(0);
    expect(outbox.snapshot()).toMatchObject({ confirmed: 5, nacked: 1, resent: 1, resentBy: { nack: 1, lost: 0, stalled: 0 } });
  });

  it('nacks of one round go again together, in push order, once', () => {
    const outbox = new Outbox('b', 10);
    const channel = new FakeChannel(true);
    outbox.attach(channel);
    for (const n of [1, 2, 3, 4]) outbox.push(message(n));
    channel.nackPublish(4);
    channel.nackPublish(2);
    channel.confirm(1);
    vi.advanceTimersByTime(4000);
    expect(channel.bodies).toEqual(names(1, 2, 3, 4, 2));
    channel.confirm(5); // the canary (m2 again) is confirmed: the rest go
    expect(channel.bodies).toEqual(names(1, 2, 3, 4, 2, 4));
    channel.confirmAll();
    expect(outbox.snapshot()).toMatchObject({ confirmed: 4, nacked: 2, resent: 2, queued: 0, inFlight: 0 });
  });

  it('backs off while nacks come in a row (4, 8 s … 16 s), and a confirmed canary starts it over', () => {
    const outbox = new Outbox('b', 10);
    const channel = new FakeChannel(true);
    outbox.attach(channel);
    outbox.push(message(1));
    const resentAfter = (ms: number) => {
      const before = channel.bodies.length;
      channel.nackPublish(channel.bodies.length);
      vi.advanceTimersByTime(ms - 1);
      expect(channel.bodies.length).toBe(before);
      vi.advanceTimersByTime(1);
      expect(channel.bodies.length).toBe(before + 1);
    };
    resentAfter(4000);
    resentAfter(8000);
    resentAfter(13_333);
    channel.confirmAll();
    outbox.push(message(2));
    resentAfter(4000);
    expect(outbox.snapshot()).toMatchObject({ nacked: 4, confirmed: 1 });
    expect([1, 2, 3, 4, 5, 6, 10].map((n) => nackDelayMs(n, () => 0.5))).toEqual([4000, 8000, 13_333, 13_333, 13_333, 13_333, 13_333]);
  });

  it('does not retry on a channel that closed during the wait; the next channel gets everything', () => {
    const outbox = new Outbox('b', 10);
    const channel = new FakeChannel(true);
    outbox.attach(channel);
    for (const n of [1, 2]) outbox.push(message(n));
    channel.nackPublish(1);
    channel.lose();
    vi.advanceTimersByTime(1000);
    expect(channel.bodies).toEqual(names(1, 2));
    expect(outbox.snapshot()).toMatchObject({ queued: 2, nacked: 1 });

    const next = new FakeChannel(true);
    outbox.attach(next);
    expect(next.bodies).toEqual(names(1)); // still probing after the nack: one first
    next.confirm(1);
    expect(next.bodies).toEqual(names(1, 2));
  });

  it('does not retry on the nacking channel once another one is attached', () => {
    const outbox = new Outbox('b', 10);
    const channel = new FakeChannel(true);
    outbox.attach(channel);
    outbox.push(message(1));
    channel.nackPublish(1);
    const next = new FakeChannel(true);
    outbox.attach(next);
    vi.advanceTimersByTime(1000);
    expect(channel.bodies).toEqual(names(1));
    expect(next.bodies).toEqual(names(1));
  });
});

describe('Outbox: the bound', () => {
  it('refuses a message beyond the bound with OutboxOverflowError and keeps every one it took', () => {
    const outbox = new Outbox('amqp://u:***@10.0.0.9:5672/%2F', 3);
    for (const n of [1, 2, 3]) outbox.push(message(n));
    let error: unknown;
    try {
      outbox.push(message(4));
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(OutboxOverflowError);
    expect(error).toMatchObject({ code: 'OUTBOX_OVERFLOW', broker: 'amqp://u:***@10.0.0.9:5672/%2F', bound: 3 });
    expect(outbox.snapshot()).toMatchObject({ queued: 3 });

    const channel = new FakeChannel(true);
    outbox.attach(channel);
    expect(channel.bodies).toEqual(names(1, 2, 3));
    outbox.push(message(5)); // room again
    expect(channel.bodies).toEqual(names(1, 2, 3, 5));
  });

  it('counts what waits, not what is on the wire; a channel loss may overfill it and loses nothing', () => {
    const outbox = new Outbox('b', 2);
    const first = new FakeChannel(true);
    outbox.attach(first);
    for (const n of [1, 2, 3, 4]) outbox.push(message(n)); // all on the wire, unconfirmed
    first.lose();
    expect(outbox.snapshot()).toMatchObject({ queued: 4 });
    expect(() => outbox.push(message(5))).toThrow(OutboxOverflowError);

    const second = new FakeChannel(true);
    outbox.attach(second);
    second.confirm(1); // the canary
    expect(second.bodies).toEqual(names(1, 2, 3, 4));
    second.confirmAll();
    expect(outbox.snapshot()).toMatchObject({ confirmed: 4, queued: 0, inFlight: 0 });
  });

  it('counts the messages held back by a full write buffer', () => {
    const outbox = new Outbox('b', 2);
    const channel = new FakeChannel(true);
    channel.full = true;
    outbox.attach(channel);
    outbox.push(message(1));
    outbox.push(message(2));
    outbox.push(message(3));
    expect(() => outbox.push(message(4))).toThrow(OutboxOverflowError);
    channel.drain();
    expect(channel.bodies).toEqual(names(1, 2, 3));
  });
});

describe('Outbox.settled', () => {
  it('is true at once when nothing waits', async () => {
    const outbox = new Outbox('b', 10);
    await expect(outbox.settled(1000)).resolves.toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('resolves true on the last confirm, without time passing', async () => {
    const outbox = new Outbox('b', 10);
    const channel = new FakeChannel(true);
    outbox.attach(channel);
    outbox.push(message(1));
    outbox.push(message(2));
    let result: boolean | undefined;
    void outbox.settled(1000).then((r) => (result = r));
    channel.confirm(1);
    await microtasks();
    expect(result).toBeUndefined();
    channel.confirm(2);
    await microtasks();
    expect(result).toBe(true);
    expect(vi.getTimerCount()).toBe(0); // its timeout is cleared
  });

  it('waits through a channel loss and the resend', async () => {
    const outbox = new Outbox('b', 10);
    const first = new FakeChannel(true);
    outbox.attach(first);
    outbox.push(message(1));
    let result: boolean | undefined;
    void outbox.settled(1000).then((r) => (result = r));
    first.lose();
    await microtasks();
    expect(result).toBeUndefined();
    const second = new FakeChannel(true);
    outbox.attach(second);
    second.confirmAll();
    await microtasks();
    expect(result).toBe(true);
  });

  it('resolves false after the timeout when something stays unconfirmed, and wakes every waiter', async () => {
    const outbox = new Outbox('b', 10);
    outbox.push(message(1));
    const results: boolean[] = [];
    void outbox.settled(1000).then((r) => results.push(r));
    void outbox.settled(3000).then((r) => results.push(r));
    await vi.advanceTimersByTimeAsync(999);
    expect(results).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(results).toEqual([false]);

    const channel = new FakeChannel(true);
    outbox.attach(channel);
    channel.confirmAll();
    await microtasks();
    expect(results).toEqual([false, true]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('answers at once with a zero timeout', async () => {
    const outbox = new Outbox('b', 10);
    outbox.push(message(1));
    let result: boolean | undefined;
    void outbox.settled(0).then((r) => (result = r));
    await microtasks();
    expect(result).toBe(false);
  });
});

describe('Outbox: bounded resends (issue 30)', () => {
  it('a nack of #1 with 1,000 in flight and the rest acked resends exactly 1', () => {
    const outbox = new Outbox('b', 2000, { maxInFlight: 1000 });
    const channel = new FakeChannel(true);
    outbox.attach(channel);
    for (let n = 1; n <= 1000; n++) outbox.push(message(n));
    expect(outbox.snapshot().inFlight).toBe(1000);
    channel.nackPublish(1);
    channel.confirmAll(); // #2..#1000: the acks after a nack still count
    expect(outbox.snapshot()).toMatchObject({ confirmed: 999, nacked: 1 });
    vi.advanceTimersByTime(10_000);
    expect(channel.bodies).toHaveLength(1001);
    expect(channel.bodies.at(-1)).toBe('m1');
    channel.confirmAll();
    expect(outbox.snapshot()).toMatchObject({ confirmed: 1000, resent: 1, resentBy: { nack: 1, lost: 0, stalled: 0 }, queued: 0, inFlight: 0 });
  });
});

describe('Outbox: the cap on unconfirmed messages', () => {
  it('puts at most maxInFlight on the wire; each confirm lets the next one go, in order', () => {
    const outbox = new Outbox('b', 100, { maxInFlight: 3 });
    const channel = new FakeChannel(true);
    outbox.attach(channel);
    for (let n = 1; n <= 6; n++) outbox.push(message(n));
    expect(channel.bodies).toEqual(names(1, 2, 3));
    expect(outbox.snapshot()).toMatchObject({ queued: 3, inFlight: 3, maxInFlight: 3 });
    channel.confirm(2);
    expect(channel.bodies).toEqual(names(1, 2, 3, 4));
    channel.confirmAll();
    expect(channel.bodies).toEqual(names(1, 2, 3, 4, 5, 6));
  });

  it('a lost channel resends at most the cap, whatever waits behind it', () => {
    const outbox = new Outbox('b', 1000, { maxInFlight: 10 });
    const first = new FakeChannel(true);
    outbox.attach(first);
    for (let n = 1; n <= 500; n++) outbox.push(message(n));
    first.lose();
    const second = new FakeChannel(true);
    outbox.attach(second);
    while (second.pending.length > 0) second.confirmAll();
    expect(outbox.snapshot()).toMatchObject({ confirmed: 500, resent: 10, resentBy: { lost: 10, nack: 0, stalled: 0 }, sent: 510 });
  });

  it('backpressure: what the cap holds back counts against the bound, and an overflow is counted', () => {
    const outbox = new Outbox('b', 2, { maxInFlight: 1 });
    const channel = new FakeChannel(true);
    outbox.attach(channel);
    for (const n of [1, 2, 3]) outbox.push(message(n)); // 1 on the wire, 2 and 3 wait
    expect(() => outbox.push(message(4))).toThrow(OutboxOverflowError);
    expect(outbox.snapshot()).toMatchObject({ inFlight: 1, queued: 2, overflowed: 1 });
    channel.confirm(1);
    outbox.push(message(5));
    expect(outbox.snapshot()).toMatchObject({ inFlight: 1, queued: 2, overflowed: 1 });
  });
});

describe('Outbox: probing after a nack (one canary at a time)', () => {
  it('a broker that keeps nacking costs one resend per round, not one per waiting message', () => {
    const outbox = new Outbox('b', 100);
    const channel = new FakeChannel(true);
    outbox.attach(channel);
    for (let n = 1; n <= 10; n++) outbox.push(message(n));
    for (let tag = 1; tag <= 10; tag++) channel.nackPublish(tag); // a queue without a leader: every one nacked
    for (let n = 11; n <= 20; n++) outbox.push(message(n)); // and the chart goes on sending
    for (let round = 1; round <= 5; round++) {
      vi.advanceTimersByTime(16_000);
      expect(channel.pending).toHaveLength(1);
      channel.nackPublish(channel.pending[0].tag);
    }
    expect(outbox.snapshot()).toMatchObject({ resent: 5, nacked: 15, inFlight: 0 });
    vi.advanceTimersByTime(16_000);
    channel.confirm(channel.pending[0].tag); // the leader is back
    while (channel.pending.length > 0) channel.confirmAll();
    expect(outbox.snapshot()).toMatchObject({ confirmed: 20, resent: 15, queued: 0, inFlight: 0 }); // each of the 10 nacked once more, plus 5 canaries
  });
});

describe('Outbox: hold (flow control)', () => {
  it('sends nothing while held, resends nothing either, and goes on in order once released', () => {
    const outbox = new Outbox('b', 10);
    const channel = new FakeChannel(true);
    outbox.attach(channel);
    outbox.push(message(1));
    outbox.hold();
    channel.nackPublish(1);
    outbox.push(message(2));
    vi.advanceTimersByTime(10_000);
    expect(channel.bodies).toEqual(names(1));
    expect(outbox.snapshot()).toMatchObject({ held: true, queued: 2, resent: 0 });
    outbox.release();
    expect(channel.bodies).toEqual(names(1, 1)); // the canary first
    channel.confirm(2);
    expect(channel.bodies).toEqual(names(1, 1, 2));
    channel.confirmAll();
    expect(outbox.snapshot()).toMatchObject({ held: false, confirmed: 2, resent: 1 });
  });
});

// Measured (scale scenario, 50 instances, RabbitMQ 3.10, a member SIGKILLed, contested
// elections lasting up to 7 s): the instances that kept their connection had their confirms
// pause, went on publishing, and then had 2–3 events each nacked; each resend of a fanned-out
// event lands again in every queue that took it (49 copies at 50 instances).
describe('Outbox: confirms that pause (a quorum queue electing a leader, issue 30)', () => {
  it('sends nothing more once the oldest event has waited SLOW_CONFIRM_MS without an answer: it is the canary', () => {
    const outbox = new Outbox('b', 100);
    const channel = new FakeChannel(true);
    outbox.attach(channel);
    outbox.push(message(1));
    channel.confirm(1); // confirms flow
    outbox.push(message(2)); // its queue's leader dies: no answer
    for (let n = 3; n <= 8; n++) {
      vi.advanceTimersByTime(500); // the chart goes on sending
      outbox.push(message(n));
    }
    expect(channel.bodies).toEqual(names(1, 2, 3)); // m3 went 500 ms in; from 1 s on nothing more
    for (const p of channel.pending) channel.nackPublish(p.tag); // the election ends: what was in flight is nacked
    expect(outbox.snapshot()).toMatchObject({ nacked: 2 });
    vi.advanceTimersByTime(16_000);
    expect(channel.pending).toHaveLength(1); // one canary after the back-off
    channel.confirm(channel.pending[0].tag);
    while (channel.pending.length > 0) channel.confirmAll();
    expect(outbox.snapshot()).toMatchObject({ confirmed: 8, nacked: 2, resent: 2, queued: 0, inFlight: 0 });
    expect(confirmedBodies(channel)).toEqual(names(1, 2, 3, 4, 5, 6, 7, 8)); // in order
  });

  it('keeps sending while answers come, however slow each one is', () => {
    const outbox = new Outbox('b', 100);
    const channel = new FakeChannel(true);
    outbox.attach(channel);
    for (let n = 1; n <= 10; n++) {
      outbox.push(message(n));
      vi.advanceTimersByTime(700);
      if (n >= 3) channel.confirm(channel.pending[0].tag); // each confirm 2 s after its publish
    }
    expect(channel.bodies).toEqual(names(1, 2, 3, 4, 5, 6, 7, 8, 9, 10));
  });
});
