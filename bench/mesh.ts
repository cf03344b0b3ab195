// Mesh throughput and round-trip latency between two networked charts on two brokers,
// beside raw amqplib publish→consume on the same brokers, in the same process.
import { connect, type ConsumeMessage } from 'amqplib';
import { Event, NetworkedActiveObject, ReturnStatus, generateKey, signals } from '../runtime/index.ts';
import { readClusterFile, up, type ClusterNode } from '../ops/cluster/index.ts';

const EVENTS = 5000;
const ROUND_TRIPS = 500;
const PAYLOAD = { text: 'x'.repeat(40), n: 0 };

export interface MeshBench {
  events: number;
  roundTrips: number;
  payloadBytes: number;
  mesh: { perSec: number; p50: number; p99: number };
  /** the same with meshDelivery 'transient' */
  meshTransient: { perSec: number; p50: number; p99: number };
  raw: { perSec: number; fanoutPerSec: number; p50: number; p99: number };
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];

async function brokers(): Promise<[ClusterNode, ClusterNode]> {
  let nodes = readClusterFile()?.nodes;
  if (!nodes) {
    console.log('(no cluster running: bringing up the local cluster)');
    nodes = (await up({ nodes: 3 })).nodes;
  }
  if (nodes.length < 2) throw new Error('the mesh benchmark needs 2 brokers: make cluster N=2');
  return [nodes[0], nodes[1]];
}

async function benchRaw(n1: ClusterNode, n2: ClusterNode) {
  const c1 = await connect(n1.amqpUrl);
  const c2 = await connect(n2.amqpUrl);
  try {
    const pub1 = await c1.createConfirmChannel();
    const pub2 = await c2.createConfirmChannel();
    const sub1 = await c1.createChannel();
    const sub2 = await c2.createChannel();
    const ex = 'bench.raw.exchange';
    for (const ch of [pub1, pub2]) await ch.assertExchange(ex, 'topic', { durable: false });
    const q2 = (await sub2.assertQueue('', { exclusive: true })).queue;
    const q1 = (await sub1.assertQueue('', { exclusive: true })).queue;
    await sub2.bindQueue(q2, ex, 'to.b');
    await sub1.bindQueue(q1, ex, 'to.a');
    const body = Buffer.from(JSON.stringify(PAYLOAD));

    // throughput: publish on broker 2 through a confirm channel, consume there
    let got = 0;
    let done!: () => void;
    const all = new Promise<void>((r) => (done = r));
    const echo = { on: false };
    await sub2.consume(q2, (m: ConsumeMessage | null) => {
      if (!m) return;
      if (echo.on) pub1.publish(ex, 'to.a', m.content, {}, () => undefined);
      else if (++got === EVENTS) done();
    }, { noAck: true });
    const t0 = performance.now();
    for (let i = 0; i < EVENTS; i++) {
      if (!pub2.publish(ex, 'to.b', body, {}, () => undefined)) await new Promise((r) => pub2.once('drain', r));
    }
    await all;
    const perSec = EVENTS / ((performance.now() - t0) / 1000);

    // the same with the mesh's fan-out: every message to both brokers, persistent
    const q1load = (await sub1.assertQueue('', { exclusive: true })).queue;
    await sub1.bindQueue(q1load, ex, 'to.b');
    await sub1.consume(q1load, () => undefined, { noAck: true });
    got = 0;
    const allFanout = new Promise<void>((r) => (done = r));
    const t1 = performance.now();
    for (let i = 0; i < EVENTS; i++) {
      pub1.publish(ex, 'to.b', body, { persistent: true }, () => undefined);
      if (!pub2.publish(ex, 'to.b', body, { persistent: true }, () => undefined)) await new Promise((r) => pub2.once('drain', r));
    }
    await allFanout;
    const fanoutPerSec = EVENTS / ((performance.now() - t1) / 1000);

    // latency: a → broker 2 → b → broker 1 → a
    echo.on = true;
    let pong!: () => void;
    await sub1.consume(q1, (m) => m && pong(), { noAck: true });
    const rtts: number[] = [];
    for (let i = 0; i < ROUND_TRIPS; i++) {
      const t = performance.now();
      await new Promise<void>((r) => {
        pong = r;
        pub2.publish(ex, 'to.b', body, {}, () => undefined);
      });
      rtts.push(performance.now() - t);
    }
    rtts.sort((a, b) => a - b);
    return { perSec, fanoutPerSec, p50: percentile(rtts, 50), p99: percentile(rtts, 99) };
  } finally {
    await c1.close();
    await c2.close();
  }
}

async function benchMeshCharts(h1: string, h2: string, meshDelivery: 'persistent' | 'transient') {
  const key = generateKey();
  const tag = Math.random().toString(16).slice(2, 8);
  const common = {
    rabbitUser: 'peter',
    rabbitPassword: 'rabbit',
    meshEncryptionKey: key,
    hosts: [h1, h2],
    outboxBound: EVENTS * 2,
    rediscoverIntervalMs: 0,
    meshDelivery,
  };
  let received = 0;
  let allIn!: () => void;
  const allReceived = new Promise<void>((r) => (allIn = r));
  let pong!: () => void;
  const a = new NetworkedActiveObject(`bench-a-${tag}`, { ...common, thisAddress: h1, txRoutingKey: 'to.b', rxRoutingKey: 'to.a' });
  const b = new NetworkedActiveObject(`bench-b-${tag}`, { ...common, thisAddress: h2, txRoutingKey: 'to.a', rxRoutingKey: 'to.b' });
  const PING = signals.append('PING');
  const PONG = signals.append('PONG');
  const LOAD = signals.append('LOAD');
  function bState(chart: any, e: Event): ReturnStatus {
    if (e.signal === LOAD) {
      if (++received === EVENTS) allIn();
      return ReturnStatus.HANDLED;
    }
    if (e.signal === PING) {
      b.transmit(new Event(PONG, e.payload));
      return ReturnStatus.HANDLED;
    }
    return chart.super(chart.top);
  }
  function aState(chart: any, e: Event): ReturnStatus {
    if (e.signal === PONG) {
      pong();
      return ReturnStatus.HANDLED;
    }
    return chart.super(chart.top);
  }
  // measure the mesh, not the spy: instrumentation off, as a production node would run
  a.instrumented = false;
  b.instrumented = false;
  await Promise.all([a.startAt(aState), b.startAt(bState)]);
  try {
    const t0 = performance.now();
    for (let i = 0; i < EVENTS; i++) a.transmit(new Event(LOAD, PAYLOAD));
    await allReceived;
    const perSec = EVENTS / ((performance.now() - t0) / 1000);
    const rtts: number[] = [];
    for (let i = 0; i < ROUND_TRIPS; i++) {
      const t = performance.now();
      await new Promise<void>((r) => {
        pong = r;
        a.transmit(new Event(PING, PAYLOAD));
      });
      rtts.push(performance.now() - t);
    }
    rtts.sort((x, y) => x - y);
    return { perSec, p50: percentile(rtts, 50), p99: percentile(rtts, 99) };
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
}

export async function benchMesh(): Promise<MeshBench> {
  const [n1, n2] = await brokers();
  const raw = await benchRaw(n1, n2);
  const mesh = await benchMeshCharts(n1.host, n2.host, 'persistent');
  const meshTransient = await benchMeshCharts(n1.host, n2.host, 'transient');
  return { events: EVENTS, roundTrips: ROUND_TRIPS, payloadBytes: JSON.stringify(PAYLOAD).length, mesh, meshTransient, raw };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await benchMesh(), null, 2));
}
