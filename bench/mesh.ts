// Mesh throughput and round-trip latency between two networked charts on two brokers, beside
// two baselines run in the same process on the same brokers:
//   (a) raw amqplib doing exactly the mesh's AMQP work (raw-mesh-work.ts), persistent and
//       transient: the ratios the targets are about;
//   (b) plain raw amqplib (non-durable exchange, exclusive server-named queues, noAck), as before.
// The sides alternate over ROUNDS rounds and each figure is the median of its rounds, so a
// noisy moment of the machine does not land on one side only.
// The mesh side runs the compiled package (dist/, built on demand), as users run it.
import { connect, type ConsumeMessage } from 'amqplib';
import type * as Runtime from '../runtime/index.ts';
import type { Event, ReturnStatus } from '../runtime/index.ts';
import { Fernet } from '../runtime/net/fernet.ts';
import { encodeEnvelope } from '../runtime/net/envelope.ts';
import { generateKey } from '../runtime/net/fernet.ts';
import { readClusterFile, up, type ClusterNode } from '../ops/cluster/index.ts';
import { benchRawMeshWork, cpuUsSince, percentile, type Figures } from './raw-mesh-work.ts';

const EVENTS = Number(process.env.MIROS_BENCH_EVENTS ?? 5000);
const ROUND_TRIPS = Number(process.env.MIROS_BENCH_ROUND_TRIPS ?? 500);
const ROUNDS = Number(process.env.MIROS_BENCH_ROUNDS ?? 3);
const PAYLOAD = { text: 'x'.repeat(40), n: 0 };

export interface MeshBench {
  events: number;
  roundTrips: number;
  rounds: number;
  payloadBytes: number;
  /** Bytes of one mesh message body (the encrypted envelope), also baseline (a)'s body size. */
  bodyBytes: number;
  /** Brokers each event goes to (mesh), or nodes of the cluster (clustered: each event published once). */
  brokers: number;
  topology: 'mesh' | 'clustered';
  mesh: Figures;
  /** the same with meshDelivery 'transient' */
  meshTransient: Figures;
  /** (a) raw amqplib doing the mesh's AMQP work, persistent */
  rawMeshWork: Figures;
  /** (a) the same, transient */
  rawMeshWorkTransient: Figures;
  /** (b) plain raw amqplib (NaN where not run) */
  raw: Figures & { fanoutPerSec: number };
}

async function compiledRuntime(): Promise<typeof Runtime> {
  const { ensureBuilt } = await import('../scripts/ensure-built.mjs');
  ensureBuilt();
  const dist = '../dist/runtime/index.js'; // a variable: type-checked through the import type above, not resolved by tsc
  return (await import(dist)) as typeof Runtime;
}

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
const medianFigures = (runs: Figures[]): Figures => ({
  perSec: median(runs.map((r) => r.perSec)),
  p50: median(runs.map((r) => r.p50)),
  p99: median(runs.map((r) => r.p99)),
  ...(runs.every((r) => r.cpuUsPerEvent !== undefined) ? { cpuUsPerEvent: median(runs.map((r) => r.cpuUsPerEvent!)) } : {}),
  ...(runs.every((r) => r.cpuUsPerRoundTrip !== undefined) ? { cpuUsPerRoundTrip: median(runs.map((r) => r.cpuUsPerRoundTrip!)) } : {}),
});

async function brokers(): Promise<ClusterNode[]> {
  let nodes = readClusterFile()?.nodes;
  if (!nodes) {
    console.error('(no cluster running: bringing up the local cluster)'); // stderr: --json keeps stdout to the figures
    nodes = (await up({ nodes: 3 })).nodes;
  }
  if (nodes.length < 2) throw new Error('the mesh benchmark needs 2 brokers: make cluster N=2');
  return nodes.slice(0, 2);
}

async function benchRaw(n1: ClusterNode, n2: ClusterNode): Promise<Figures & { fanoutPerSec: number }> {
  const tag = Math.random().toString(16).slice(2, 8);
  const [toA, toB] = [`to.a.${tag}`, `to.b.${tag}`]; // this run's own: two runs on the same brokers do not hear each other
  const c1 = await connect(n1.amqpUrl);
  const c2 = await connect(n2.amqpUrl);
  try {
    const pub1 = await c1.createConfirmChannel();
    const pub2 = await c2.createConfirmChannel();
    const sub1 = await c1.createChannel();
    const sub2 = await c2.createChannel();
    const ex = 'miros.bench.raw.exchange'; // peter may declare miros.* names only
    for (const ch of [pub1, pub2]) await ch.assertExchange(ex, 'topic', { durable: false });
    const q2 = (await sub2.assertQueue('', { exclusive: true })).queue;
    const q1 = (await sub1.assertQueue('', { exclusive: true })).queue;
    await sub2.bindQueue(q2, ex, toB);
    await sub1.bindQueue(q1, ex, toA);
    const body = Buffer.from(JSON.stringify(PAYLOAD));

    // throughput: publish on broker 2 through a confirm channel, consume there
    let got = 0;
    let done!: () => void;
    const all = new Promise<void>((r) => (done = r));
    const echo = { on: false };
    await sub2.consume(q2, (m: ConsumeMessage | null) => {
      if (!m) return;
      if (echo.on) pub1.publish(ex, toA, m.content, {}, () => undefined);
      else if (++got === EVENTS) done();
    }, { noAck: true });
    const t0 = performance.now();
    for (let i = 0; i < EVENTS; i++) {
      if (!pub2.publish(ex, toB, body, {}, () => undefined)) await new Promise((r) => pub2.once('drain', r));
    }
    await all;
    const perSec = EVENTS / ((performance.now() - t0) / 1000);

    // the same with the mesh's fan-out: every message to both brokers, persistent
    const q1load = (await sub1.assertQueue('', { exclusive: true })).queue;
    await sub1.bindQueue(q1load, ex, toB);
    await sub1.consume(q1load, () => undefined, { noAck: true });
    got = 0;
    const allFanout = new Promise<void>((r) => (done = r));
    const t1 = performance.now();
    for (let i = 0; i < EVENTS; i++) {
      pub1.publish(ex, toB, body, { persistent: true }, () => undefined);
      if (!pub2.publish(ex, toB, body, { persistent: true }, () => undefined)) await new Promise((r) => pub2.once('drain', r));
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
        pub2.publish(ex, toB, body, {}, () => undefined);
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

/**
 * Chart a on hosts[0] sends to chart b on hosts[1]. Mesh topology: both publish to every host's
 * broker in `hosts`; clustered: `hosts` are the cluster's nodes and each publishes once.
 */
export async function benchMeshCharts(hosts: string[], meshDelivery: 'persistent' | 'transient', topology: 'mesh' | 'clustered' = 'mesh'): Promise<Figures> {
  const [h1, h2] = hosts;
  const { Event, NetworkedActiveObject, ReturnStatus, signals } = await compiledRuntime();
  const key = generateKey();
  const tag = Math.random().toString(16).slice(2, 8);
  const common = {
    rabbitUser: 'peter',
    rabbitPassword: 'rabbit',
    meshEncryptionKey: key,
    hosts,
    topology,
    outboxBound: EVENTS * 2,
    rediscoverIntervalMs: 0,
    meshDelivery,
  };
  let received = 0;
  let allIn!: () => void;
  const allReceived = new Promise<void>((r) => (allIn = r));
  let pong!: () => void;
  // routing keys of this run alone: two runs on the same brokers do not hear each other
  const a = new NetworkedActiveObject(`bench-a-${tag}`, { ...common, thisAddress: h1, txRoutingKey: `to.b.${tag}`, rxRoutingKey: `to.a.${tag}` });
  const b = new NetworkedActiveObject(`bench-b-${tag}`, { ...common, thisAddress: h2, txRoutingKey: `to.a.${tag}`, rxRoutingKey: `to.b.${tag}` });
  const PING = signals.append('PING');
  const PONG = signals.append('PONG');
  const LOAD = signals.append('LOAD');
  function bState(chart: Runtime.NetworkedActiveObject, e: Event): ReturnStatus {
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
  function aState(chart: Runtime.NetworkedActiveObject, e: Event): ReturnStatus {
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
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < EVENTS; i++) a.transmit(new Event(LOAD, PAYLOAD));
    await allReceived;
    const perSec = EVENTS / ((performance.now() - t0) / 1000);
    const cpuUsPerEvent = cpuUsSince(cpu0) / EVENTS;
    const cpu1 = process.cpuUsage();
    const rtts: number[] = [];
    for (let i = 0; i < ROUND_TRIPS; i++) {
      const t = performance.now();
      await new Promise<void>((r) => {
        pong = r;
        a.transmit(new Event(PING, PAYLOAD));
      });
      rtts.push(performance.now() - t);
    }
    const cpuUsPerRoundTrip = cpuUsSince(cpu1) / ROUND_TRIPS;
    rtts.sort((x, y) => x - y);
    return { perSec, p50: percentile(rtts, 50), p99: percentile(rtts, 99), cpuUsPerEvent, cpuUsPerRoundTrip };
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
}

/**
 * The size of one mesh message body for PAYLOAD, with every field the publisher writes
 * (publisher.ts: the incarnation id, the authenticated destination); seq and ts have as many
 * digits as in a run, the host as many characters as a's.
 */
function meshBodyBytes(host: string): number {
  const now = Date.now();
  const envelope = {
    sender: 'bench-a-000000',
    host,
    seq: now * 1000 + EVENTS,
    ts: now,
    signal: 'LOAD',
    payload: PAYLOAD,
    lc: EVENTS,
    inc: now * 1000,
    iid: '0'.repeat(16), // miros-nets.ts: 8 random bytes in hex
    net: 'mesh',
    rk: 'to.b.000000', // the run's own routing key (benchMeshCharts)
  };
  return encodeEnvelope(new Fernet(generateKey()), envelope).length;
}

export interface MeshRunOptions {
  /** Brokers: a's, b's, then the rest of the mesh (default: the first two of the running cluster). */
  nodes?: ClusterNode[];
  topology?: 'mesh' | 'clustered';
  /** Also run baseline (b), plain raw amqplib (between the first two brokers). */
  plainRaw?: boolean;
  log?: (line: string) => void;
}

export async function benchMesh(o: MeshRunOptions = {}): Promise<MeshBench> {
  const log = o.log ?? (() => {});
  // on the running cluster, its own topology: a clustered one benchmarked as a mesh gets each
  // event twice (once through each node of the one cluster) and the comparison means nothing
  const topology = o.topology ?? (o.nodes === undefined ? readClusterFile()?.topology : undefined) ?? 'mesh';
  const nodes = o.nodes ?? (await brokers());
  const [n1, n2] = nodes;
  const hosts = nodes.map((n) => n.host);
  const bodyBytes = meshBodyBytes(hosts[0]);
  const runs = { mesh: [] as Figures[], meshTransient: [] as Figures[], rawMeshWork: [] as Figures[], rawMeshWorkTransient: [] as Figures[], raw: [] as (Figures & { fanoutPerSec: number })[] };
  const urls = nodes.map((n) => n.amqpUrl);
  const work = (persistent: boolean) => benchRawMeshWork({ urls, topology, events: EVENTS, roundTrips: ROUND_TRIPS, bodyBytes, persistent });
  for (let round = 1; round <= ROUNDS; round++) {
    log(`round ${round}/${ROUNDS}`);
    runs.rawMeshWork.push(await work(true));
    runs.mesh.push(await benchMeshCharts(hosts, 'persistent', topology));
    runs.rawMeshWorkTransient.push(await work(false));
    runs.meshTransient.push(await benchMeshCharts(hosts, 'transient', topology));
    if (o.plainRaw !== false) runs.raw.push(await benchRaw(n1, n2));
  }
  const nan = { perSec: Number.NaN, p50: Number.NaN, p99: Number.NaN, fanoutPerSec: Number.NaN };
  return {
    events: EVENTS,
    roundTrips: ROUND_TRIPS,
    rounds: ROUNDS,
    payloadBytes: JSON.stringify(PAYLOAD).length,
    bodyBytes,
    brokers: nodes.length,
    topology,
    mesh: medianFigures(runs.mesh),
    meshTransient: medianFigures(runs.meshTransient),
    rawMeshWork: medianFigures(runs.rawMeshWork),
    rawMeshWorkTransient: medianFigures(runs.rawMeshWorkTransient),
    raw: runs.raw.length ? { ...medianFigures(runs.raw), fanoutPerSec: median(runs.raw.map((r) => r.fanoutPerSec)) } : nan,
  };
}

/**
 * Where the benchmark's own clusters go (mesh-scale, and --clustered without a running
 * clustered cluster): MIROS_BENCH_ADDRESS_BASE (default 127.0.3.11), MIROS_BENCH_EPMD_PORT
 * (4373), MIROS_BENCH_DIST_PORT_BASE (25980). Several people sharing a machine give each their own.
 */
function ownClusterPlace(): { addressBase: string; epmdPort: number; distPortBase: number } {
  return {
    addressBase: process.env.MIROS_BENCH_ADDRESS_BASE || '127.0.3.11',
    epmdPort: Number(process.env.MIROS_BENCH_EPMD_PORT || 4373),
    distPortBase: Number(process.env.MIROS_BENCH_DIST_PORT_BASE || 25980),
  };
}

/** Runs `run` on a cluster of the benchmark's own in a temporary directory, torn down after. */
async function withOwnCluster(nodes: number, topology: 'mesh' | 'clustered', log: (line: string) => void, run: (all: ClusterNode[]) => Promise<void>): Promise<void> {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { down } = await import('../ops/cluster/index.ts');
  const dir = mkdtempSync(join(tmpdir(), 'mirosnet-bench-mesh-'));
  try {
    const place = ownClusterPlace();
    log(`bringing up ${nodes} nodes (${topology}) at ${place.addressBase}`);
    const c = await up({ dir, nodes, topology, ...place, namePrefix: 'bm', log: () => {} });
    await run(c.nodes);
  } finally {
    await down({ dir, log: () => {} }).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The clustered topology (one RabbitMQ cluster of 3 nodes, quorum queues with a single active
 * consumer, each event published once through the sender's own node) against baseline (a)
 * doing the same AMQP work on the same quorum queues (raw-mesh-work.ts, topology 'clustered').
 * On the running clustered cluster of MIROS_BENCH_CLUSTERED_DIR (a `mirosnet cluster up
 * --topology clustered` directory), or the running cluster when it is a clustered one, else on
 * one of its own (ownClusterPlace), torn down after.
 */
export async function benchMeshClustered(log: (line: string) => void = () => {}): Promise<MeshBench> {
  const dir = process.env.MIROS_BENCH_CLUSTERED_DIR;
  const file = dir ? readClusterFile(dir) : readClusterFile();
  if (dir && !file) throw new Error(`no cluster running in MIROS_BENCH_CLUSTERED_DIR=${dir}`);
  if (dir && file?.topology !== 'clustered') throw new Error(`the cluster in ${dir} is a ${file?.topology} one: bring one up with --topology clustered`);
  // the running cluster (MIROS_CLUSTER_DIR) serves when it is a clustered one
  if (file?.topology === 'clustered') return benchMesh({ nodes: file.nodes, topology: 'clustered', plainRaw: false, log });
  let result: MeshBench | undefined;
  await withOwnCluster(3, 'clustered', log, async (all) => {
    result = await benchMesh({ nodes: all, topology: 'clustered', plainRaw: false, log });
  });
  return result!;
}

/**
 * How the figures move as the mesh grows and on the clustered topology: its own clusters in a
 * temporary directory (ownClusterPlace), torn down after: a 5-node mesh measured with 3 and
 * with 5 brokers (each event to each of them), then a 3-node RabbitMQ cluster.
 */
export async function benchMeshScale(log: (line: string) => void = () => {}): Promise<MeshBench[]> {
  const results: MeshBench[] = [];
  await withOwnCluster(5, 'mesh', log, async (all) => {
    for (const n of [3, 5]) {
      log(`mesh topology, ${n} brokers`);
      results.push(await benchMesh({ nodes: all.slice(0, n), plainRaw: false, log }));
    }
  });
  await withOwnCluster(3, 'clustered', log, async (all) => {
    log('clustered topology, 3 nodes');
    results.push(await benchMesh({ nodes: all, topology: 'clustered', plainRaw: false, log }));
  });
  return results;
}

/**
 * A CPU profile of the persistent mesh run alone (V8's sampling profiler, what `node --cpu-prof`
 * writes, started through the inspector after a warm-up round so that loading and compiling the
 * modules stay out of it). Writes bench/profiles/mesh-<time>.cpuprofile; bench/profile-summary.ts reads it.
 */
export async function profileMesh(dir = 'bench/profiles'): Promise<{ file: string; runs: Figures[] }> {
  const { Session } = await import('node:inspector/promises');
  const { mkdirSync, writeFileSync } = await import('node:fs');
  const [n1, n2] = await brokers();
  await benchMeshCharts([n1.host, n2.host], 'persistent'); // warm-up, not profiled
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
  const runs: Figures[] = [];
  for (let round = 0; round < ROUNDS; round++) runs.push(await benchMeshCharts([n1.host, n2.host], 'persistent'));
  const { profile } = await session.post('Profiler.stop');
  session.disconnect();
  mkdirSync(dir, { recursive: true });
  const file = `${dir}/mesh-${new Date().toISOString().replace(/[:.]/g, '-')}.cpuprofile`;
  writeFileSync(file, JSON.stringify(profile));
  return { file, runs };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (process.argv.includes('--profile-only')) console.log(JSON.stringify(await profileMesh(), null, 2));
  else console.log(JSON.stringify(await benchMesh({ log: (l) => console.error(l) }), null, 2));
}
