// The simulated RabbitMQ cluster (miros-rabbitmq/sim, issue 24 item 3, clustered topology):
// quorum queues whose leader moves when its node dies (confirms and deliveries wait for the
// election), single active consumer across nodes, classic queues that go down with their node,
// and the real runtime (clustered topology) riding out a node crash.
import type { ConfirmChannel, ConsumeMessage } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { Event, ReturnStatus, type State } from '../../runtime/hsm/index.ts';
import { NetworkedActiveObject } from '../../runtime/net/networked.ts';
import type { NetworkedOptions } from '../../runtime/net/miros-nets.ts';
import { SimWorld } from '../../runtime/sim/index.ts';

const NODES = ['10.1.0.1', '10.1.0.2', '10.1.0.3'];

async function channelOn(world: SimWorld, process: string, host: string): Promise<ConfirmChannel> {
  const model = await world.process(process).environment.connect(`amqp://u:p@${host}:5672`);
  model.on('error', () => undefined);
  const ch = await model.createConfirmChannel();
  ch.on('error', () => undefined);
  return ch;
}

function confirmOf(ch: ConfirmChannel, queue: string, body: string): Promise<string> {
  return new Promise((resolve) => ch.publish('', queue, Buffer.from(body), { persistent: true }, (err) => resolve(err ? (err as Error).message : 'ack')));
}

describe('a simulated cluster', () => {
  it('a quorum queue elects a new leader when its node crashes: confirms and deliveries wait for the election, nothing confirmed is lost', async () => {
    const world = new SimWorld(11);
    const cluster = world.cluster(NODES, { electionMs: 200 });
    const run = async () => {
      const pub = await channelOn(world, 'publisher', NODES[1]);
      const q = 'qq';
      // declared through node 1: its leader is node 1
      const declarer = await channelOn(world, 'admin', NODES[0]);
      await declarer.assertQueue(q, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
      expect(cluster.leaderOf(q)).toBe(NODES[0]);
      const sub = await channelOn(world, 'consumer', NODES[1]);
      const got: ConsumeMessage[] = [];
      await sub.consume(q, (m) => m && got.push(m) && sub.ack(m));
      expect(await confirmOf(pub, q, 'before')).toBe('ack');
      cluster.crashNode(NODES[0]);
      expect(cluster.leaderOf(q)).toBeUndefined();
      const t0 = world.elapsedMs;
      const during = confirmOf(pub, q, 'during');
      expect(await during).toBe('ack');
      expect(world.elapsedMs - t0).toBeGreaterThanOrEqual(200); // waited for the election
      expect(cluster.leaderOf(q)).toBe(NODES[1]); // the next member up
      expect(await confirmOf(pub, q, 'after')).toBe('ack');
      await world.sleep(50);
      expect(got.map((m) => m.content.toString())).toEqual(['before', 'during', 'after']);
      // leadership moved on purpose: a pause, no loss
      cluster.moveLeader(q, NODES[2]);
      expect(await confirmOf(pub, q, 'moved')).toBe('ack');
      expect(cluster.leaderOf(q)).toBe(NODES[2]);
      // no majority: nothing is confirmed until a node returns
      cluster.crashNode(NODES[2]);
      let outcome = 'pending';
      void confirmOf(pub, q, 'no-majority').then((o) => (outcome = o));
      await world.sleep(2000);
      expect(outcome).toBe('pending');
      cluster.restartNode(NODES[0]);
      await world.sleep(500);
      expect(outcome).toBe('ack');
      await world.sleep(50);
      expect(got.map((m) => m.content.toString())).toEqual(['before', 'during', 'after', 'moved', 'no-majority']);
    };
    await world.settle(run());
  });

  it('single active consumer across nodes: the second consumer takes over when the first one\'s node crashes', async () => {
    const world = new SimWorld(12);
    const cluster = world.cluster(NODES);
    const run = async () => {
      const admin = await channelOn(world, 'admin', NODES[1]);
      await admin.assertQueue('sac', { durable: true, arguments: { 'x-queue-type': 'quorum', 'x-single-active-consumer': true } });
      const got: string[] = [];
      const a = await channelOn(world, 'a', NODES[0]);
      await a.consume('sac', (m) => m && got.push(`a:${m.content.toString()}${m.fields.redelivered ? '*' : ''}`)); // never acks
      const b = await channelOn(world, 'b', NODES[2]);
      await b.consume('sac', (m) => m && got.push(`b:${m.content.toString()}${m.fields.redelivered ? '*' : ''}`) && b.ack(m));
      for (const body of ['1', '2']) expect(await confirmOf(admin, 'sac', body)).toBe('ack');
      await world.sleep(20);
      expect(got).toEqual(['a:1', 'a:2']);
      cluster.crashNode(NODES[0]);
      await world.sleep(200);
      expect(got).toEqual(['a:1', 'a:2', 'b:1*', 'b:2*']);
    };
    await world.settle(run());
  });

  it('a durable classic queue is down with its node (404 "home node … is down") and back with its persistent messages after a restart', async () => {
    const world = new SimWorld(13);
    const cluster = world.cluster(NODES);
    const run = async () => {
      const ch = await channelOn(world, 'p', NODES[0]);
      await ch.assertQueue('classic', { durable: true });
      await ch.assertQueue('transient', { durable: false });
      expect(await confirmOf(ch, 'classic', 'kept')).toBe('ack');
      cluster.crashNode(NODES[0]);
      const other = await channelOn(world, 'q', NODES[1]);
      expect(await confirmOf(other, 'classic', 'refused')).toBe('message nacked');
      await expect(other.checkQueue('classic')).rejects.toThrow(/404 \(NOT-FOUND\) with message "NOT_FOUND - home node 'rabbit@10.1.0.1' of durable queue 'classic' in vhost '\/' is down or inaccessible"/);
      expect(cluster.hasQueue('transient')).toBe(false);
      cluster.restartNode(NODES[0]);
      const again = await channelOn(world, 'r', NODES[1]);
      expect(await again.checkQueue('classic')).toMatchObject({ messageCount: 1 });
      await expect(channelOn(world, 's', '10.1.0.9')).rejects.toThrow(/ECONNREFUSED/);
    };
    await world.settle(run());
  });
});

// ---- the real runtime, clustered topology ------------------------------------------------

const KEY = Buffer.alloc(32, 9).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');

class Counter extends NetworkedActiveObject {
  readonly seen: number[] = [];
}
const counting: State = function counting(chart, e) {
  if (e.signalName === 'TICK') {
    (chart as Counter).seen.push((e.payload as { n: number }).n);
    return ReturnStatus.HANDLED;
  }
  return chart.super(chart.top);
};
const quiet: State = function quiet(chart) {
  return chart.super(chart.top);
};

function clustered(world: SimWorld, process: string, thisAddress: string): NetworkedOptions {
  return {
    environment: world.process(process).environment,
    topology: 'clustered',
    thisAddress,
    hosts: NODES,
    rabbitUser: 'u',
    rabbitPassword: 'p',
    meshEncryptionKey: KEY,
    rediscoverIntervalMs: 0,
    onWarning: () => undefined,
    output: () => undefined,
  };
}

describe('the real runtime on a simulated cluster (clustered topology)', () => {
  it('a sender on node 1 and a receiver on node 3; node 1 crashes (the queue leader moves, the sender fails over): every event arrives once, in order', async () => {
    const world = new SimWorld(21);
    const cluster = world.cluster(NODES, { electionMs: 100 });
    const sender = new Counter('sender', clustered(world, 'sender', NODES[0]));
    const receiver = new Counter('receiver', clustered(world, 'receiver', NODES[2]));
    const run = async () => {
      await Promise.all([sender.startAt(quiet), receiver.startAt(counting)]);
      const queue = cluster.queueNames().find((q) => q.includes('receiver') && !q.includes('dead') && !q.includes('lock'))!;
      expect(cluster.leaderOf(queue)).toBe(NODES[2]);
      const n = 30;
      for (let i = 0; i < n / 2; i++) sender.transmit(new Event('TICK', { n: i }));
      while (receiver.seen.length < 5) await world.sleep(1);
      cluster.crashNode(NODES[0]);
      cluster.moveLeader(queue);
      for (let i = n / 2; i < n; i++) sender.transmit(new Event('TICK', { n: i }));
      for (let waited = 0; receiver.seen.length < n && waited < 60_000; waited += 100) await world.sleep(100);
      expect(receiver.seen).toEqual(Array.from({ length: n }, (_, i) => i));
      expect(cluster.leaderOf(queue)).not.toBe(NODES[2]);
      await Promise.all([sender.stop(), receiver.stop()]);
    };
    await world.settle(run(), { limitMs: 300_000 });
  });
});
