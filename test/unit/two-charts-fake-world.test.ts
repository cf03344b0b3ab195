// The proof of the seam (issue 23, item 7): two NetworkedActiveObjects, alice and bob, on two
// hosts with a broker each, run in a FakeWorld (fake-world.ts): a virtual clock and seeded
// randomness as their Environment, in-memory brokers reached through environment.connect.
// No vi.mock of a module, no real timer, no real socket. alice transmits events to bob, bob
// handles each once and in order and answers; then the broker drops bob's consuming
// connection while events are in flight, and after the reconnect every confirmed event
// reaches bob's chart exactly once (the redelivered ones are counted as duplicates).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Event, ReturnStatus, type State } from '../../runtime/hsm/index.ts';
import { NetworkedActiveObject } from '../../runtime/net/networked.ts';
import type { NetworkedOptions } from '../../runtime/net/miros-nets.ts';
import { EXCHANGES } from '../../runtime/net/topology.ts';
import { FakeChannel } from './fake-amqp.ts';
import { FakeBroker, FakeWorld, VirtualClock, topicMatches } from './fake-world.ts';

const ALICE_HOST = '10.0.0.1';
const BOB_HOST = '10.0.0.2';
/** A fixed Fernet key (32 bytes, url-safe base64): nothing random outside the world's seed. */
const KEY = Buffer.alloc(32, 7).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');

class Alice extends NetworkedActiveObject {
  readonly answers: number[] = [];
}
class Bob extends NetworkedActiveObject {
  readonly seen: number[] = [];
}

const aliceListening: State = function aliceListening(chart, e) {
  if (e.signalName === 'PONG') {
    (chart as Alice).answers.push((e.payload as { n: number }).n);
    return ReturnStatus.HANDLED;
  }
  return chart.super(chart.top);
};

const bobAnswering: State = function bobAnswering(chart, e) {
  if (e.signalName === 'PING') {
    const bob = chart as Bob;
    const { n } = e.payload as { n: number };
    bob.seen.push(n);
    bob.transmit(new Event('PONG', { n }));
    return ReturnStatus.HANDLED;
  }
  return chart.super(chart.top);
};

function options(world: FakeWorld, thisAddress: string): NetworkedOptions {
  return {
    environment: world.environment,
    thisAddress,
    hosts: [ALICE_HOST, BOB_HOST],
    rabbitUser: 'u',
    rabbitPassword: 'p',
    meshEncryptionKey: KEY,
    rediscoverIntervalMs: 0,
    onWarning: () => undefined,
    output: () => undefined,
  };
}

const running: Array<{ world: FakeWorld; charts: NetworkedActiveObject[] }> = [];

async function twoCharts(seed: number) {
  const world = new FakeWorld({ seed, hosts: [ALICE_HOST, BOB_HOST] });
  const alice = new Alice('alice', options(world, ALICE_HOST));
  const bob = new Bob('bob', options(world, BOB_HOST));
  running.push({ world, charts: [alice, bob] });
  await world.settle(Promise.all([alice.startAt(aliceListening), bob.startAt(bobAnswering)]));
  return { world, alice, bob };
}

// The host's timers are replaced by vitest's, which never fire here: a runtime module that set
// a real timer instead of the environment's would leave one pending (checked after each test)
// or stall the world (runUntil throws once it is idle).
const HOST_TIMERS = ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate', 'clearImmediate'] as const;
beforeEach(() => {
  vi.useFakeTimers({ toFake: [...HOST_TIMERS] });
});
afterEach(async () => {
  try {
    for (const { world, charts } of running.splice(0)) await world.settle(Promise.all(charts.map((c) => c.stop())));
    expect(vi.getTimerCount()).toBe(0);
  } finally {
    vi.useRealTimers();
  }
});

/** bob's mesh queue on his broker. */
function bobQueue(world: FakeWorld): string {
  const names = [...world.broker(BOB_HOST).queues.keys()].filter((q) => q.includes('bob') && world.broker(BOB_HOST).bindings.some((b) => b.queue === q && b.exchange === EXCHANGES.mesh));
  expect(names).toHaveLength(1);
  return names[0];
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('FakeWorld: the virtual clock and the broker', () => {
  it('fires timers in (virtual time, insertion) order, intervals repeat, cancelled ones never run', () => {
    const clock = new VirtualClock();
    const fired: string[] = [];
    clock.schedule(() => fired.push('b@5'), 5);
    clock.schedule(() => fired.push('a@0'), 0);
    clock.schedule(() => fired.push('c@5'), 5);
    const gone = clock.schedule(() => fired.push('never'), 1);
    const tick = clock.schedule(() => fired.push(`tick@${clock.time}`), 2, 2);
    clock.cancel(gone);
    while (clock.time < 6 && clock.fireNext());
    clock.cancel(tick);
    while (clock.fireNext());
    expect(fired).toEqual(['a@0', 'tick@2', 'tick@4', 'b@5', 'c@5', 'tick@6']);
  });

  it('is seeded: the same seed draws the same numbers, another seed others', () => {
    const draw = (seed: number) => {
      const clock = new VirtualClock(seed);
      return Array.from({ length: 4 }, () => clock.random());
    };
    expect(draw(3)).toEqual(draw(3));
    expect(new Set(draw(3)).size).toBe(4);
    const a = new VirtualClock(3);
    const b = new VirtualClock(4);
    expect([a.random(), a.random()]).not.toEqual([b.random(), b.random()]);
    expect(a.random()).toBeGreaterThanOrEqual(0);
  });

  it('matches topic patterns as RabbitMQ does (* one word, # zero or more)', () => {
    expect(topicMatches('empty', 'empty')).toBe(true);
    expect(topicMatches('a.*', 'a.b')).toBe(true);
    expect(topicMatches('a.*', 'a.b.c')).toBe(false);
    expect(topicMatches('a.#', 'a')).toBe(true);
    expect(topicMatches('#.c', 'a.b.c')).toBe(true);
    expect(topicMatches('#', '')).toBe(true);
    expect(topicMatches('a.b', 'a.c')).toBe(false);
  });
  it('the broker routes by binding, confirms publishes, hands out at most the prefetch, and requeues the unacked of a closed channel in order', async () => {
    const clock = new VirtualClock();
    const broker = new FakeBroker('h', clock);
    const run = () => {
      while (clock.fireNext());
    };
    const publisher = new FakeChannel(true, broker);
    await publisher.assertExchange('x', 'topic');
    const consumerChannel = new FakeChannel(false, broker);
    await consumerChannel.assertQueue('q');
    await consumerChannel.bindQueue('q', 'x', 'a.*');
    await consumerChannel.prefetch(2);
    const got: Array<{ body: string; redelivered: boolean; tag: number }> = [];
    await consumerChannel.consume('q', (m) => m && got.push({ body: m.content.toString(), redelivered: m.fields.redelivered, tag: m.fields.deliveryTag }));
    const confirmed: number[] = [];
    for (const [i, key] of ['a.1', 'b.1', 'a.2', 'a.3'].entries()) publisher.publish('x', key, Buffer.from(key), {}, (err) => err === null && confirmed.push(i));
    run();
    expect(confirmed).toEqual([0, 1, 2, 3]); // the unroutable one is confirmed too (not mandatory)
    expect(broker.stats.unroutable).toBe(1);
    expect(got.map((g) => g.body)).toEqual(['a.1', 'a.2']); // prefetch 2
    consumerChannel.ack({ fields: { deliveryTag: got[0].tag } } as never);
    run();
    expect(got.map((g) => g.body)).toEqual(['a.1', 'a.2', 'a.3']);
    consumerChannel.lose(); // a.2 and a.3 were unacked
    expect(broker.depth('q')).toBe(2);
    const again = new FakeChannel(false, broker);
    const redelivered: string[] = [];
    await again.consume('q', (m) => m && redelivered.push(`${m.content.toString()}${m.fields.redelivered ? '*' : ''}`));
    run();
    expect(redelivered).toEqual(['a.2*', 'a.3*']);
    expect(broker.violations).toEqual([]);
  });
});

describe('two charts in a fake world (no mock, no real timer, no socket)', () => {
  it('alice transmits N events, bob handles each once and in order, and every answer reaches alice', async () => {
    const real = performance.now();
    const { world, alice, bob } = await twoCharts(1);
    const n = 40;
    const transmissions = range(n).map((i) => alice.transmit(new Event('PING', { n: i })));
    const settled = Promise.all(transmissions.map((t) => t.settled));
    await world.runUntil(() => bob.seen.length >= n && alice.answers.length >= n);
    await world.settle(Promise.all([bob.drained(), alice.drained()]));
    const results = await world.settle(settled);

    expect(bob.seen).toEqual(range(n));
    expect(alice.answers).toEqual(range(n));
    // every event confirmed by both brokers (alice publishes to each host's broker)
    for (const r of results) {
      expect(r.unconfirmed).toEqual([]);
      expect(r.confirmed).toHaveLength(2);
    }
    const bobStats = bob.networkStats();
    expect(bobStats.mesh.delivered).toBe(n);
    expect(bobStats.mesh.duplicates).toBe(0);
    expect(alice.networkStats().mesh.delivered).toBe(n);
    expect(alice.networkStats().mesh.self).toBe(n); // its own events, back from its own broker, filtered
    for (const host of [ALICE_HOST, BOB_HOST]) {
      expect(world.broker(host).violations).toEqual([]);
      expect(world.broker(host).exchanges.get(EXCHANGES.mesh)).toBe('topic');
    }
    console.log(`two charts, ${n} events and answers: ${world.clock.time} virtual ms, ${world.clock.fired} timers, ${(performance.now() - real).toFixed(0)} real ms`);
  });

  it('two worlds in one process share no connection, link or chart registry: each pair talks over its own brokers', async () => {
    const first = await twoCharts(3);
    const second = await twoCharts(4);
    const n = 10;
    for (const [k, { alice }] of [first, second].entries()) for (const i of range(n)) alice.transmit(new Event('PING', { n: 100 * k + i }));
    await first.world.runUntil(() => first.bob.seen.length >= n && first.alice.answers.length >= n);
    await second.world.runUntil(() => second.bob.seen.length >= n && second.alice.answers.length >= n);
    expect(first.bob.seen).toEqual(range(n));
    expect(second.bob.seen).toEqual(range(n).map((i) => 100 + i));
    for (const { world } of [first, second]) {
      // each world dialled its own brokers: a receiver and a link per chart and host
      expect(world.named('miros/sub')).toHaveLength(2);
      expect(world.named('miros/pub').length).toBeGreaterThanOrEqual(2);
    }
  });

  it('bob\'s connection dropped with events in flight: after the reconnect every confirmed event reaches bob exactly once', async () => {
    const real = performance.now();
    const { world, alice, bob } = await twoCharts(2);
    const n = 60;
    const send = (from: number, to: number) => range(to - from).map((i) => alice.transmit(new Event('PING', { n: from + i })));
    const transmissions = send(0, n / 2);
    // the fault, while bob is a third of the way through: what was handed to him and not acked goes back to the queue
    await world.runUntil(() => bob.seen.length >= n / 6);
    const handledBeforeDrop = bob.seen.length;
    const [bobsConsumer] = world.named('miros/sub', `@${BOB_HOST}`);
    const unackedAtDrop = bobsConsumer.current!.channels.reduce((k, c) => k + c.unacked.length, 0);
    expect(unackedAtDrop).toBeGreaterThan(0); // events were in flight to bob
    bobsConsumer.lose();
    expect(bob.networkStats().receiving.state).not.toBe('up');
    // and more while bob is away: the broker keeps them in his durable queue
    transmissions.push(...send(n / 2, n));
    const settled = Promise.all(transmissions.map((t) => t.settled));

    await world.runUntil(() => bob.seen.length >= n && alice.answers.length >= n && bobsConsumer.models.length === 2 && bob.networkStats().receiving.state === 'up');
    await world.advance(1000); // a virtual second for the last acks and redeliveries
    await world.settle(Promise.all([bob.drained(), alice.drained()]));
    const results = await world.settle(settled);

    const confirmedByBob = results.filter((r) => r.confirmed.some((url) => url.includes(BOB_HOST))).length;
    expect(confirmedByBob).toBe(n);
    expect(bob.seen).toEqual(range(n)); // each once, in order
    expect(alice.answers).toEqual(range(n));
    expect(bobsConsumer.models).toHaveLength(2); // reconnected once
    expect(world.broker(BOB_HOST).depth(bobQueue(world))).toBe(0); // nothing left unacked
    const stats = bob.networkStats();
    expect(stats.receiving.state).toBe('up');
    expect(stats.mesh.delivered).toBe(n);
    // the redelivered events bob had already handled were recognised and dropped, and counted
    const broker = world.broker(BOB_HOST);
    expect(broker.stats.redelivered).toBeGreaterThan(0);
    expect(stats.mesh.duplicates).toBeGreaterThan(0);
    expect(stats.mesh.duplicates).toBeLessThanOrEqual(broker.stats.redelivered);
    expect(stats.mesh.self).toBe(n); // its own answers, back from its own broker, filtered
    expect(stats.mesh.received).toBe(n + stats.mesh.duplicates + stats.mesh.self);
    expect(broker.violations).toEqual([]);
    console.log(
      `fault: dropped after ${handledBeforeDrop} handled, ${unackedAtDrop} unacked; ${broker.stats.redelivered} redelivered, ${stats.mesh.duplicates} duplicates; ` +
        `${world.clock.time} virtual ms, ${world.clock.fired} timers, ${(performance.now() - real).toFixed(0)} real ms`,
    );
  });
});
