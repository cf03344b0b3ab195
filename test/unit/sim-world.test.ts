// miros-rabbitmq/sim (issue 24, item 1): the world's clock, event order and random streams,
// processes that share nothing, and the real runtime (two NetworkedActiveObjects) on
// simulated brokers, with a process killed mid-run.
import { describe, expect, it } from 'vitest';
import { Event, ReturnStatus, type State } from '../../runtime/hsm/index.ts';
import { NetworkedActiveObject } from '../../runtime/net/networked.ts';
import type { NetworkedOptions } from '../../runtime/net/miros-nets.ts';
import { Fernet } from '../../runtime/net/fernet.ts';
import { SIM_EPOCH_MS, SimWorld, type SimProcess } from '../../runtime/sim/index.ts';
import { WRITE_BUFFER_FRAMES } from '../../runtime/sim/broker.ts';

describe('SimWorld: clock, events, random streams', () => {
  it('runs events in (virtual time, insertion) order; cancelled ones never run; the clock moves only with events', async () => {
    const world = new SimWorld(1);
    const fired: string[] = [];
    world.schedule(5, () => fired.push(`b@${world.elapsedMs}`));
    world.schedule(0, () => fired.push(`a@${world.elapsedMs}`));
    world.schedule(5, () => fired.push(`c@${world.elapsedMs}`));
    const gone = world.schedule(1, () => fired.push('never'));
    world.schedule(3, () => world.schedule(2, () => fired.push(`d@${world.elapsedMs}`))); // due at 5, inserted after b and c
    world.cancel(gone);
    expect(world.nowMs()).toBe(SIM_EPOCH_MS);
    await world.run();
    expect(fired).toEqual(['a@0', 'b@5', 'c@5', 'd@5']);
    expect(world.nowMs()).toBe(SIM_EPOCH_MS + 5);
  });

  it('run({ untilMs }) stops at that virtual time; promise jobs run between events', async () => {
    const world = new SimWorld(1);
    const seen: string[] = [];
    world.schedule(10, () => void Promise.resolve().then(() => seen.push('job@10')));
    world.schedule(10, () => seen.push('event@10'));
    world.schedule(50, () => seen.push('event@50'));
    await world.run({ untilMs: 20 });
    expect(seen).toEqual(['job@10', 'event@10']);
    expect(world.elapsedMs).toBe(20);
    await world.run();
    expect(seen.at(-1)).toBe('event@50');
    const loop = new SimWorld(1);
    const tick = () => loop.schedule(1, tick);
    tick();
    await expect(loop.run({ maxSteps: 100 })).rejects.toThrow(/more than 100 events/);
  });

  // A handler's CPU time (ChartContext.work): the process is single-threaded, so what it queued with
  // setImmediate (a chart's next drain turn, an ack flush) waits until the CPU is free, in the order it
  // came due; a timer runs when due (Node runs timers and socket reads before the next turn's immediates).
  it('compute(ms): a busy process runs its immediates once it is free, in order; its timers when due; other processes are not held', async () => {
    const world = new SimWorld(1);
    const p = world.process('p').environment;
    const q = world.process('q').environment;
    const ran: string[] = [];
    const at = (what: string) => () => ran.push(`${what}@${world.elapsedMs}`);
    p.setImmediate(() => {
      ran.push(`turn1@${world.elapsedMs}`);
      world.process('p').compute(30);
      p.setImmediate(at('turn2'));
    });
    world.schedule(10, () => p.setImmediate(at('flush'))); // queued mid-turn: after turn2
    p.setTimeout(at('timer'), 5);
    q.setImmediate(at('q'));
    await world.run();
    expect(ran).toEqual(['turn1@0', 'q@0', 'timer@5', 'turn2@30', 'flush@30']);
    world.process('p').compute(0); // nothing to spend: not busy
    p.setImmediate(at('free'));
    await world.run();
    expect(ran.at(-1)).toBe('free@30');
  });

  it('streams are seeded and independent: one more draw in one does not change another', () => {
    const draws = (world: SimWorld, name: string) => Array.from({ length: 5 }, () => world.stream(name).next());
    const a = new SimWorld(42);
    const b = new SimWorld(42);
    b.stream('faults').next(); // an extra draw elsewhere
    expect(draws(a, 'network')).toEqual(draws(b, 'network'));
    expect(draws(a, 'network')).not.toEqual(draws(a, 'workload'));
    expect(draws(new SimWorld(43), 'network')).not.toEqual(draws(new SimWorld(42), 'network'));
    const s = new SimWorld(7).stream('proc:x');
    for (let i = 0; i < 1000; i++) {
      const v = s.next();
      expect(v >= 0 && v < 1).toBe(true);
      expect(s.int(6)).toBeLessThan(6);
    }
    expect(s.bytes(7)).toHaveLength(7);
  });

  it("Fernet takes its time and IV from the process's environment: same seed, same tokens; another process, other IVs", async () => {
    const tokens = async (seed: number, process: string) => {
      const world = new SimWorld(seed);
      await world.run({ untilMs: 90_000 });
      const fernet = new Fernet(Buffer.alloc(32, 3), world.process(process).environment);
      return [fernet.encrypt('hello'), fernet.encrypt('hello')].map((t) => Buffer.from(t, 'base64url'));
    };
    const [a, b] = await tokens(3, 'p');
    expect(a.readUInt32BE(5)).toBe(Math.floor((SIM_EPOCH_MS + 90_000) / 1000)); // the token's time: the virtual clock's
    expect(a.subarray(9, 25)).not.toEqual(b.subarray(9, 25)); // a fresh IV each time
    expect((await tokens(3, 'p')).map((t) => t.toString('hex'))).toEqual([a, b].map((t) => t.toString('hex')));
    expect((await tokens(3, 'q'))[0].subarray(9, 25)).not.toEqual(a.subarray(9, 25));
  });

  it('a process is created once per name; its timers stop when it is killed', async () => {
    const world = new SimWorld(1);
    const p = world.process('p');
    expect(world.process('p')).toBe(p);
    let ticks = 0;
    p.environment.setInterval(() => ticks++, 10);
    await world.run({ untilMs: 35 });
    expect(ticks).toBe(3);
    p.kill();
    expect(p.alive).toBe(false);
    await world.run({ untilMs: 100 });
    expect(ticks).toBe(3);
    expect(world.pending).toBe(0);
    expect(p.environment.now()).toBe(SIM_EPOCH_MS + 100);
  });
});

describe('the simulated connection', () => {
  it("publish() returns false once the connection's write buffer is full, and the channel emits 'drain' when it has gone out", async () => {
    const world = new SimWorld(2);
    world.broker('h', { latencyMs: 5 });
    const run = async () => {
      const model = await world.process('p').environment.connect('amqp://u:p@h:5672');
      const ch = await model.createConfirmChannel();
      await ch.assertQueue('miros.q', { durable: false });
      let drained = 0;
      ch.on('drain', () => drained++);
      const results: boolean[] = [];
      for (let i = 0; i < 5000; i++) results.push(ch.publish('', 'miros.q', Buffer.from(String(i))));
      expect(results.indexOf(false)).toBe(WRITE_BUFFER_FRAMES - 1); // the frame that fills the buffer is the first false
      expect(drained).toBe(0);
      await ch.waitForConfirms();
      expect(drained).toBe(1);
      expect(world.broker('h').depth('miros.q')).toEqual({ ready: 5000, unacked: 0 });
      await model.close();
    };
    await world.settle(run());
  });
});

// ---- the real runtime on the simulated broker ----------------------------------------

const ALICE_HOST = '10.0.0.1';
const BOB_HOST = '10.0.0.2';
const KEY = Buffer.alloc(32, 7).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');

class Alice extends NetworkedActiveObject {
  readonly answers: number[] = [];
}
class Bob extends NetworkedActiveObject {
  readonly seen: number[] = [];
  /** Called after each PING is handled (a fault triggered by the chart's state). */
  afterPing: () => void = () => undefined;
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
    bob.afterPing();
    return ReturnStatus.HANDLED;
  }
  return chart.super(chart.top);
};

function options(p: SimProcess, thisAddress: string): NetworkedOptions {
  return {
    environment: p.environment,
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

async function twoCharts(seed: number) {
  const world = new SimWorld(seed);
  world.broker(ALICE_HOST);
  world.broker(BOB_HOST);
  const alice = new Alice('alice', options(world.process('alice'), ALICE_HOST));
  const bob = new Bob('bob', options(world.process('bob'), BOB_HOST));
  await world.settle(Promise.all([alice.startAt(aliceListening), bob.startAt(bobAnswering)]));
  return { world, alice, bob };
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

async function until(world: SimWorld, done: () => boolean, limitMs = 60_000): Promise<void> {
  const end = world.elapsedMs + limitMs;
  while (!done()) {
    if (world.pending === 0) throw new Error(`idle at ${world.elapsedMs} ms`);
    if (world.elapsedMs > end) throw new Error(`${limitMs} virtual ms passed`);
    await world.run({ untilMs: world.elapsedMs + 10 });
  }
}

describe('the real runtime in a SimWorld', () => {
  it('alice and bob exchange N events each way: each once and in order; the same seed replays the same virtual timeline', async () => {
    const timeline = async (seed: number) => {
      const { world, alice, bob } = await twoCharts(seed);
      const n = 30;
      for (const i of range(n)) alice.transmit(new Event('PING', { n: i }));
      await until(world, () => bob.seen.length >= n && alice.answers.length >= n);
      expect(bob.seen).toEqual(range(n));
      expect(alice.answers).toEqual(range(n));
      expect(bob.networkStats().mesh.duplicates).toBe(0);
      const at = world.elapsedMs;
      await world.settle(Promise.all([alice.stop(), bob.stop()]));
      for (const host of [ALICE_HOST, BOB_HOST]) expect(world.broker(host).connectionCount).toBe(0);
      return { at, steps: world.steps };
    };
    const first = await timeline(5);
    expect(await timeline(5)).toEqual(first);
  });

  it("bob's process is killed with events in flight; a new bob (another process) gets every confirmed event, the redelivered ones marked", async () => {
    const { world, alice, bob } = await twoCharts(9);
    const n = 40;
    const queue = 'miros.mesh.bob';
    let unackedAtKill = 0;
    bob.afterPing = () => {
      if (bob.seen.length !== 10) return;
      unackedAtKill = world.broker(BOB_HOST).depth(queue)!.unacked;
      world.process('bob').kill();
    };
    for (const i of range(n)) alice.transmit(new Event('PING', { n: i }));
    await until(world, () => !world.process('bob').alive);
    expect(unackedAtKill).toBeGreaterThan(0);
    const bob2 = new Bob('bob', options(world.process('bob-2'), BOB_HOST));
    await world.settle(bob2.startAt(bobAnswering));
    await until(world, () => new Set([...bob.seen, ...bob2.seen]).size >= n);
    expect([...new Set([...bob.seen, ...bob2.seen])].sort((a, b) => a - b)).toEqual(range(n));
    // what bob's chart had already taken in it still handles (promise jobs run on); nothing more reaches it
    expect(bob.seen).toEqual(range(bob.seen.length));
    expect(world.broker(BOB_HOST).stats.redelivered).toBeGreaterThan(0);
    // bob2 got the rest, once and in order, and the redelivered ones bob had handled (it cannot know he had)
    expect(bob2.seen.filter((k) => k >= 10)).toEqual(range(n).slice(10));
    expect(world.broker(BOB_HOST).depth(queue)).toEqual({ ready: 0, unacked: 0 });
    await world.settle(Promise.all([alice.stop(), bob2.stop()]));
  });
});
