// scale: M instance processes spread over N brokers exchange mesh traffic for a fixed time
// (a token ring, and bursts every member broadcasts to all), once per topology on the same
// brokers: 'clustered' (one RabbitMQ cluster; a member is SIGKILLed mid-run and the
// instances must fail over losing nothing) and 'mesh' (today's links to every broker).
// Connections are counted from the brokers' /api/connections, publishes from the mesh
// exchange's publish_in; summary.json puts the two side by side with the formulas.
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { clusterFilePath, down, openCluster, readClusterFile, status, up, type ClusterFile, type ClusterOptions } from '../../cluster/index.ts';
import { readState } from '../../cluster/cluster-file.ts';
import { Instance, Run, clusterDir, observeRun } from '../runner.ts';
import { observing, startObserve } from '../../observe/prometheus.ts';
import { opsAdmin } from '../../cluster/admin.ts';
import type { CheckResult } from '../summary.ts';
import { check } from '../summary.ts';
import { cpuSeconds, settledMeshPublishes } from './broker-load.ts';
import { connectionsPerPid, listConnections, socketOwners } from './connections.ts';
import { expectedDeliveries, formulas, missing, percentile, type MemberReport } from './metrics.ts';
import { formatColumns } from '../../util/columns.ts';
import { sleep, until } from '../../util/wait.ts';
import { clientTlsFiles } from '../../tls/client-settings.ts';

export type Topology = 'mesh' | 'clustered';

export interface ScaleOptions {
  instances: number;
  nodes: number;
  backend: 'local' | 'netns' | 'docker';
  topologies: Topology[];
  durationS: number;
  /** Clustered: SIGKILL a member mid-run. */
  kill: boolean;
  /** Default max(1000, 100·M): about 10 bursts/s in all (M·10 deliveries/s), whatever M. */
  burstEveryMs?: number;
  burstSize?: number;
  dir?: string;
  logsRoot?: string;
  log?: (line: string) => void;
  /** --timeout: how long to wait for the outcome once the traffic ends (the drain), ms; default DRAIN_MAX_MS. */
  outcomeTimeoutMs?: number;
  /** --tls on: brokers with TLS (brought up so if the running ones are not), instances on amqps:// with the cluster CA. */
  tls?: 'on';
  /** Prometheus (mirosnet observe, started if needed) scrapes the brokers and every instance of each phase. */
  observe?: boolean;
}

export interface PhaseResult {
  topology: Topology;
  /** False when it could not run at all (`reason` says why). */
  ran: boolean;
  reason?: string;
  instances: number;
  ready: number;
  brokers: number;
  durationS: number;
  eventsSent: number;
  eventsPerS: number;
  deliveries: number;
  deliveriesPerS: number;
  /** Confirmed events addressed to an instance that never reached it. */
  lost: number;
  /** Events addressed to an instance that never reached it, confirmed or not. */
  missing: number;
  /** Copies the receivers dropped as already seen (mesh on clustered brokers: each of the N publishes reaches every queue). */
  duplicates: number;
  /** duplicates / deliveries (issue 30: ≤ 0.2 clustered with a member killed). */
  duplicatesPerDelivery: number | null;
  /** Events the instances' outboxes published again (networkStats().resends), by why. */
  resends: { total: number; nack: number; lost: number; stalled: number };
  /** Deliveries the brokers flagged as redelivered (networkStats().redeliveries). */
  redeliveries: number;
  /** Faults injected in the run (the member kill), and resends per fault (all resends when none). */
  faults: number;
  resendsPerFault: number | null;
  /** The bound on resends per fault (issue 30): the cap on unconfirmed events (maxInFlight) summed over every instance's links (cap × fan-out). */
  resendBound: number | null;
  latencyMs: { p50: number | null; p99: number | null; samples: number };
  rssMb: { mean: number | null; max: number | null };
  brokerCpuPercent: Record<string, number | null>;
  connections: { total: number; perInstanceMax: number; perInstanceMean: number; matchedByName: number; matchedByPort: number; unmatched: number; uncounted: number };
  publishes: number;
  publishesPerEvent: number | null;
  /** What the instances' runtime says it ran (networkStats().topology), when it says. */
  runtimeTopology: string[];
  failover?: { killed: string; killedAt: string; homed: number; recovered: number; p50Ms: number | null; maxMs: number | null };
  checks: CheckResult[];
}

/** The drain ends when nothing more has arrived for this long... */
const DRAIN_IDLE_MS = 15_000;
/** ...or after this long in all. */
const DRAIN_MAX_MS = 180_000;

/**
 * All-to-all bursts cost M² deliveries per round: at one round a second, 50 instances ask
 * 2,500 quorum-queue deliveries a second of 3 brokers on 2 cores, and the run measures a
 * backlog, not the mesh. By default the rounds slow as M grows, so the load grows as M.
 */
export const burstEveryFor = (o: Pick<ScaleOptions, 'instances' | 'burstEveryMs'>): number => o.burstEveryMs ?? Math.max(1000, 100 * o.instances);

const stamp = () => new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').replace(/\..*/, '');

/** Starts `names` in batches: 50 Node processes starting at once starve 2 cores. */
async function startInBatches(run: Run, names: string[], batch: number, log: (l: string) => void): Promise<string[]> {
  const failed: string[] = [];
  for (let i = 0; i < names.length; i += batch) {
    const slice = names.slice(i, i + batch);
    const results = await Promise.allSettled(slice.map((n) => run.start(n, 90_000)));
    results.forEach((r, j) => r.status === 'rejected' && failed.push(`${slice[j]}: ${(r.reason as Error).message}`));
    log(`${Math.min(i + batch, names.length)}/${names.length} instances started${failed.length ? ` (${failed.length} failed)` : ''}`);
  }
  return failed;
}

async function runPhase(topology: Topology, o: ScaleOptions, cluster: ClusterFile, dir: string, logDir: string, log: (l: string) => void): Promise<PhaseResult> {
  const m = o.instances;
  const nodes = cluster.nodes.slice(0, o.nodes);
  const n = nodes.length;
  const mgmt = nodes.map((x) => x.managementUrl);
  const auth = opsAdmin(dir).credentials; // /api/connections of every user, /api/exchanges: the ops admin
  const clusteredBrokers = cluster.topology === 'clustered';
  const run = new Run(n, (l) => log(`${topology}: ${l}`));
  run.cluster = cluster;
  run.dir = dir;
  run.handle = await openCluster({ dir, log: (l) => log(`cluster: ${l}`) }); // where run.start runs the instances (Backend.exec)
  run.topology = topology; // MIROS_TOPOLOGY for each instance, on every backend
  run.logDir = join(logDir, topology);
  mkdirSync(run.logDir, { recursive: true });
  if (o.observe) await observeRun(run);
  const durationMs = o.durationS * 1000;
  const key = `scale.${run.id}`;
  for (let i = 0; i < m; i++) {
    const home = nodes[i % n];
    run.instances.push(
      new Instance(
        { name: `sc${i}-${run.id}`, program: 'scale', broker: i % n },
        {
          name: `sc${i}-${run.id}`,
          host: home.host,
          hosts: nodes.map((x) => x.host),
          user: auth.user,
          password: auth.password,
          meshKey: run.keys.mesh,
          traceKey: run.keys.trace,
          spyKey: run.keys.spy,
          tx: key,
          rx: key,
          // clustered: the runtime takes the members from the cluster file
          ...(topology === 'clustered' ? { clusterFile: clusterFilePath(dir) } : {}),
          tls: clientTlsFiles(cluster, home.host), // a TLS testbed: amqps:// with its CA
          params: { index: i, count: m, durationMs, burstEveryMs: burstEveryFor(o), burstSize: o.burstSize ?? 1 },
        },
      ),
    );
  }
  const result: PhaseResult = {
    topology, ran: false, instances: m, ready: 0, brokers: n, durationS: o.durationS, eventsSent: 0, eventsPerS: 0, deliveries: 0, deliveriesPerS: 0, lost: 0, missing: 0, duplicates: 0,
    duplicatesPerDelivery: null, resends: { total: 0, nack: 0, lost: 0, stalled: 0 }, redeliveries: 0, faults: 0, resendsPerFault: null, resendBound: null,
    latencyMs: { p50: null, p99: null, samples: 0 }, rssMb: { mean: null, max: null }, brokerCpuPercent: {},
    connections: { total: 0, perInstanceMax: 0, perInstanceMean: 0, matchedByName: 0, matchedByPort: 0, unmatched: 0, uncounted: 0 },
    publishes: 0, publishesPerEvent: null, runtimeTopology: [], checks: [],
  };
  if (topology === 'clustered' && !clusteredBrokers) {
    result.reason = `the brokers in ${dir} are not one cluster (topology ${cluster.topology}): make cluster TOPOLOGY=clustered N=${o.nodes}`;
    result.checks.push({ name: 'clustered: the brokers form one cluster', pass: false, reasons: [result.reason] });
    return result;
  }

  let killed: { name: string; at: number; homed: Instance[] } | undefined;
  // the runtime reads its topology from MIROS_TOPOLOGY; the mesh half must not see the cluster file
  const saved = { topology: process.env.MIROS_TOPOLOGY, file: process.env.MIROS_CLUSTER_FILE };
  process.env.MIROS_TOPOLOGY = topology;
  if (topology === 'mesh') delete process.env.MIROS_CLUSTER_FILE;
  try {
    const failed = await startInBatches(run, run.instances.map((i) => i.name), 10, run.log);
    result.ready = run.instances.filter((i) => i.ready).length;
    if (failed.length) {
      result.reason = `${failed.length} of ${m} instances did not start`;
      result.checks.push(check(`${topology}: every instance started`, failed));
      return result;
    }
    result.ran = true;
    const beams = Object.fromEntries(nodes.map((x) => [x.name, x.pid]));
    const cpu0 = Object.fromEntries(nodes.map((x) => [x.name, cpuSeconds(x.pid)]));
    const publishes0 = await settledMeshPublishes(mgmt, auth, clusteredBrokers, 12_000);
    const t0 = Date.now();
    run.log(`all ${m} READY: GO for ${o.durationS} s`);
    run.send({ cmd: 'go' });

    // connections while the traffic flows (the API lists a connection once its stats are emitted: ≤ 5 s)
    const pids = run.instances.map((i) => i.child!.pid!);
    let conns: Awaited<ReturnType<typeof listConnections>> = [];
    let counted!: ReturnType<typeof connectionsPerPid>;
    await until(async () => {
      conns = await listConnections(mgmt, auth);
      counted = connectionsPerPid(conns, pids, socketOwners());
      return [...counted.perPid.values()].every((c) => c.connections > 0);
    }, Math.max(6000, durationMs / 3), 1000);
    const { perPid, unmatched } = counted;
    const counts = [...perPid.values()];
    result.connections = {
      total: counts.reduce((s, c) => s + c.connections, 0),
      perInstanceMax: Math.max(...counts.map((c) => c.connections)),
      perInstanceMean: counts.reduce((s, c) => s + c.connections, 0) / counts.length,
      matchedByName: counts.reduce((s, c) => s + c.byName, 0),
      matchedByPort: counts.reduce((s, c) => s + c.byPort, 0),
      unmatched,
      uncounted: counts.filter((c) => c.connections === 0).length,
    };
    writeFileSync(join(run.logDir, 'connections.json'), JSON.stringify({ conns, perInstance: counts }, null, 2));
    run.log(`connections: ${result.connections.total} for ${m} instances (max ${result.connections.perInstanceMax} per instance; ${result.connections.matchedByName} by connection_name, ${result.connections.matchedByPort} by peer port)`);

    // clustered: SIGKILL a member halfway; its instances must move to the others
    if (topology === 'clustered' && o.kill && n >= 2) {
      await until(() => Date.now() - t0 >= durationMs / 2, durationMs);
      const victim = nodes[1];
      const at = Date.now();
      process.kill(victim.pid, 'SIGKILL');
      run.log(`SIGKILL ${victim.name} (${victim.erlangNode}, pid ${victim.pid})`);
      run.send({ cmd: 'mark', payload: { at } });
      killed = { name: victim.name, at, homed: run.instances.filter((i) => i.spec.broker === 1) };
    }

    // until every member stopped sending and everything addressed reached its receiver
    await until(() => run.instances.every((i) => i.got('SENT').length > 0), durationMs + Math.min(30_000, o.outcomeTimeoutMs ?? 30_000), 200);
    const sentBy = run.instances.map((i) => {
      const d = i.got('SENT')[0];
      return d && 'sent' in d ? d : { sent: 0, ring: 0 };
    });
    const expected = expectedDeliveries(sentBy);
    const receivedNow = () => run.instances.reduce((s, i) => s + (i.got('PROGRESS').at(-1)?.received ?? 0), 0);
    // the drain: until everything arrived, or nothing more arrives for DRAIN_IDLE_MS (a backlog
    // still being worked through is not a loss; a queue nobody drains any more is)
    let last = -1;
    let lastChange = Date.now();
    const drained = await until(() => {
      const now = receivedNow();
      if (now !== last) [last, lastChange] = [now, Date.now()];
      return now >= expected || Date.now() - lastChange > DRAIN_IDLE_MS;
    }, o.outcomeTimeoutMs ?? DRAIN_MAX_MS, 250);
    if (!drained || receivedNow() < expected) run.log(`drain: ${receivedNow()} of ${expected} deliveries; nothing more arrived for ${Math.round((Date.now() - lastChange) / 1000)} s`);
    const elapsedS = (Date.now() - t0) / 1000;
    for (const x of nodes) {
      const c1 = cpuSeconds(beams[x.name]);
      const c0 = cpu0[x.name];
      result.brokerCpuPercent[x.name] = c0 !== undefined && c1 !== undefined ? Math.round(((c1 - c0) / elapsedS) * 1000) / 10 : null;
    }
    result.publishes = (await settledMeshPublishes(mgmt, auth, clusteredBrokers)) - publishes0;

    run.send({ cmd: 'report' });
    await until(() => run.instances.every((i) => i.got('SCALE').length > 0), 20_000, 100);
    const reports = run.instances.map((i) => i.got('SCALE')[0]).filter((r): r is MemberReport => r !== undefined);
    const lost = missing(reports);
    result.eventsSent = reports.reduce((s, r) => s + r.sent, 0);
    result.deliveries = reports.reduce((s, r) => s + r.received, 0);
    result.eventsPerS = Math.round((result.eventsSent / o.durationS) * 10) / 10;
    result.deliveriesPerS = Math.round((result.deliveries / o.durationS) * 10) / 10;
    result.lost = lost.reduce((s, l) => s + l.confirmed, 0);
    result.missing = lost.reduce((s, l) => s + l.missing, 0);
    result.publishesPerEvent = result.eventsSent ? Math.round((result.publishes / result.eventsSent) * 100) / 100 : null;
    const lat = reports.flatMap((r) => r.latencies).sort((a, b) => a - b);
    result.latencyMs = { p50: percentile(lat, 50), p99: percentile(lat, 99), samples: lat.length };
    const rss = reports.map((r) => r.rssMb);
    result.rssMb = { mean: Math.round((rss.reduce((a, b) => a + b, 0) / rss.length) * 10) / 10, max: Math.round(Math.max(...rss) * 10) / 10 };

    result.checks.push(
      check(`${topology}: every instance reported`, run.instances.filter((i) => !i.got('SCALE').length).map((i) => `${i.name}: no report`)),
      check(
        `${topology}: every instance received everything addressed to it`,
        lost.filter((l) => l.missing > 0).map((l) => `sc${l.index}: ${l.missing} missing, ${l.confirmed} of them confirmed (from ${Object.entries(l.from).map(([f, k]) => `sc${f}: ${k}`).join(', ')})`),
      ),
      check(`${topology}: connections of every instance counted from /api/connections`, result.connections.uncounted ? [`${result.connections.uncounted} instances with no connection found`] : []),
    );
    if (topology === 'clustered') {
      result.checks.push(
        check('clustered: AMQP connections per instance ≤ 2 (/api/connections)', counts.filter((c) => c.connections > 2).map((c) => `pid ${c.pid}: ${c.connections} connections`)),
      );
    }
    if (killed) {
      const recovered = killed.homed.map((i) => i.got('RECOVERED')[0]?.at as number | undefined).filter((x): x is number => x !== undefined).map((at) => at - killed!.at).sort((a, b) => a - b);
      result.failover = {
        killed: killed.name,
        killedAt: new Date(killed.at).toISOString(),
        homed: killed.homed.length,
        recovered: recovered.length,
        p50Ms: percentile(recovered, 50),
        maxMs: recovered.at(-1) ?? null,
      };
      result.checks.push(
        check('clustered: the instances of the killed node failed over', killed.homed.filter((i) => !i.got('RECOVERED').length).map((i) => `${i.name}: nothing received after the kill`)),
        check('clustered: 0 confirmed events lost across the node kill', result.lost ? [`${result.lost} confirmed events addressed to an instance never reached it`] : []),
      );
    }
  } finally {
    process.env.MIROS_TOPOLOGY = saved.topology;
    if (saved.topology === undefined) delete process.env.MIROS_TOPOLOGY;
    if (saved.file !== undefined) process.env.MIROS_CLUSTER_FILE = saved.file;
    await run.beforeStop?.();
    await run.stopAll();
    run.afterStop?.();
    result.duplicates = run.instances.reduce((sum, i) => sum + (i.stats?.mesh.duplicates ?? 0), 0);
    result.duplicatesPerDelivery = result.deliveries > 0 ? Math.round((result.duplicates / result.deliveries) * 1000) / 1000 : null;
    for (const i of run.instances) {
      const r = (i.stats as { resends?: PhaseResult['resends'] } | undefined)?.resends;
      if (r) for (const k of ['total', 'nack', 'lost', 'stalled'] as const) result.resends[k] += r[k];
      result.redeliveries += (i.stats as { redeliveries?: number } | undefined)?.redeliveries ?? 0;
    }
    result.faults = killed ? 1 : 0;
    result.resendsPerFault = result.ran ? result.resends.total / Math.max(1, result.faults) : null;
    const links = run.instances.flatMap((i) => (i.stats as { brokers?: Array<{ maxInFlight?: number }> } | undefined)?.brokers ?? []);
    result.resendBound = links.length ? links.reduce((s, b) => s + (b.maxInFlight ?? 0), 0) : null;
    if (result.faults > 0 && result.resendsPerFault !== null && result.resendBound !== null) {
      result.checks.push(
        check(
          `${topology}: resends per fault ≤ cap × fan-out (maxInFlight over every instance's links: ${result.resendBound})`,
          result.resendsPerFault > result.resendBound ? [`${result.resendsPerFault} resends per fault`] : [],
        ),
      );
    }
    result.runtimeTopology = [...new Set(run.instances.map((i) => (i.stats as { topology?: string } | undefined)?.topology ?? 'unreported'))];
    if (topology === 'clustered' && result.ran && !result.runtimeTopology.includes('clustered')) {
      result.checks.push({
        name: 'clustered: the runtime ran the clustered topology',
        pass: false,
        reasons: [`the instances' networkStats().topology is ${result.runtimeTopology.join(', ')}: this runtime does not implement MIROS_TOPOLOGY=clustered yet`],
      });
    }
    const bad = run.instances.filter((i) => i.child && i.exitCode !== 0);
    if (bad.length) result.checks.push(check(`${topology}: instances exited cleanly`, bad.map((i) => `${i.name}: exit ${i.exitCode} ${i.stderr.slice(-2).join(' | ')}`)));
  }
  return result;
}

/**
 * The mesh comparison on independent brokers (issue 30): on the members of one RabbitMQ
 * cluster each of a mesh event's N publishes reaches every queue, which measures the
 * cluster's fan-out, not the mesh. The clustered testbed is taken down, a mesh testbed of as
 * many nodes brought up in <dir>/mesh-testbed (the same addresses, ports and namespaces: the
 * testbed's own settings, never the defaults another testbed may use), the phase run there,
 * and a clustered testbed of as many nodes brought back with them (fresh: its old data is purged).
 */
async function meshOnItsOwnTestbed(o: ScaleOptions, dir: string, logDir: string, log: (l: string) => void): Promise<PhaseResult> {
  const clustered = readClusterFile(dir)!;
  const meshDir = join(dir, 'mesh-testbed');
  const cl = (l: string) => log(`cluster: ${l}`);
  const same = testbedSettings(dir); // read before the purge takes the state file
  log(`mesh: on a mesh testbed of ${o.nodes} independent brokers (${meshDir}), not on the cluster's members`);
  // purged: a clustered node restarted first after a full stop waits minutes for the peer
  // that stopped last (Mnesia); the testbed is brought back as a fresh cluster instead
  await down({ dir, log: cl, purge: true });
  try {
    await up({ ...same, dir: meshDir, nodes: o.nodes, backend: clustered.backend, topology: 'mesh', tls: clustered.tls?.mode, log: cl });
    return await runPhase('mesh', o, readClusterFile(meshDir)!, meshDir, logDir, log);
  } finally {
    await down({ dir: meshDir, log: cl }).catch((err: Error) => log(`cluster: taking the mesh testbed down failed: ${err.message}`));
    await up({ ...same, dir, nodes: Math.max(o.nodes, clustered.nodes.length), backend: clustered.backend, topology: 'clustered', tls: clustered.tls?.mode, log: cl });
  }
}

/** Where and how the testbed in `dir` runs (addresses, names, ports, namespaces), as `up` takes them. */
export function testbedSettings(dir: string): Pick<ClusterOptions, 'addressBase' | 'namePrefix' | 'distPortBase' | 'epmdPort' | 'nsPrefix' | 'erlArgs' | 'maxMessageSize'> {
  const s = readState(dir)?.settings;
  if (!s) return {};
  return {
    addressBase: s.addressBase,
    namePrefix: s.namePrefix,
    distPortBase: s.distPortBase,
    epmdPort: s.epmdPort,
    nsPrefix: s.nsPrefix,
    erlArgs: s.erlArgs,
    ...(s.maxMessageSize !== undefined ? { maxMessageSize: s.maxMessageSize } : {}),
  };
}

/** Brings the broker that was killed back (a cluster member rejoins with its data). */
async function healCluster(dir: string, nodes: number, log: (l: string) => void): Promise<void> {
  const s = await status({ dir });
  if (s.nodes.every((x) => x.healthy)) return;
  log('bringing the killed node back');
  await up({ dir, nodes, log: (l) => log(`cluster: ${l}`) });
}

export interface ScaleResult {
  pass: boolean;
  logDir: string;
  summary: ScaleSummary;
}

export interface ScaleSummary {
  name: 'scale';
  pass: boolean;
  seconds: number;
  run: string;
  backend: string;
  nodes: number;
  instances: number;
  clusterTopology: string;
  /** The offered load: each instance broadcasts `burstSize` events every `burstEveryMs` for `durationS`, plus the ring. */
  load: { burstEveryMs: number; burstSize: number; durationS: number };
  checks: Array<CheckResult & { detail: string }>;
  /** What a reader must know to compare the figures. */
  notes: string[];
  metrics: {
    phases: PhaseResult[];
    comparison: Array<Record<string, string | number | null>>;
    formulas: ReturnType<typeof formulas>;
  };
}

export async function runScale(o: ScaleOptions): Promise<ScaleResult> {
  const t0 = Date.now();
  const log = o.log ?? ((l: string) => process.stdout.write(`[scale] ${l}\n`));
  const dir = clusterDir(o);
  let s = await status({ dir });
  const tlsDiffers = o.tls !== undefined && readClusterFile(dir)?.tls?.mode !== o.tls;
  if (!s.up || s.nodes.length < o.nodes || !s.nodes.every((x) => x.healthy) || tlsDiffers) {
    const topology = o.topologies.includes('clustered') ? 'clustered' : undefined;
    log(`cluster: bringing ${o.nodes} nodes up in ${dir}${topology ? ' (clustered)' : ''}${o.tls ? ` with TLS ${o.tls}` : ''}`);
    await up({ dir, nodes: Math.max(o.nodes, s.nodes.length), backend: o.backend, topology, tls: o.tls, log: (l) => log(`cluster: ${l}`) });
    s = await status({ dir });
  }
  const cluster = readClusterFile(dir)!;
  const id = Math.random().toString(16).slice(2, 8);
  const logDir = join(o.logsRoot ?? join(process.cwd(), 'logs'), `scale-${stamp()}-${id}`);
  mkdirSync(logDir, { recursive: true });
  log(`${o.instances} instances on ${o.nodes} ${cluster.topology} brokers (${cluster.backend}), ${o.durationS} s per topology: ${o.topologies.join(' then ')}; each instance broadcasts ${o.burstSize ?? 1} every ${burstEveryFor(o)} ms; logs in ${logDir}`);

  const phases: PhaseResult[] = [];
  for (const t of o.topologies) {
    if (t === 'mesh' && cluster.topology === 'clustered') {
      phases.push(await meshOnItsOwnTestbed(o, dir, logDir, log));
      continue;
    }
    phases.push(await runPhase(t, o, readClusterFile(dir)!, dir, logDir, log));
    if (cluster.topology === 'clustered') await healCluster(dir, o.nodes, log);
  }
  if (o.observe && !observing(dir)) {
    // the mesh phase's own testbed took the cluster's Prometheus down with it: back up, on its data
    const observer = await startObserve(dir, { log });
    const meshApart = cluster.topology === 'clustered' && o.topologies.includes('mesh');
    log(`observe: Prometheus at ${observer.url} again${meshApart ? ` (the mesh phase's series are in ${join(dir, 'mesh-testbed', 'observe', 'data')})` : ''}`);
  }
  const checks = phases.flatMap((p) => p.checks).map((c) => ({ ...c, detail: c.reasons.join('; ') }));
  const pass = checks.length > 0 && checks.every((c) => c.pass);
  const f = formulas(o.instances, o.nodes);
  const comparison = [
    ...phases.map((p) => ({
      topology: p.topology,
      ran: p.ran ? 'yes' : `no: ${p.reason}`,
      brokers: p.brokers,
      connections: p.connections.total,
      connectionsPerInstance: p.connections.perInstanceMax,
      publishesPerEvent: p.publishesPerEvent,
      eventsPerS: p.eventsPerS,
      deliveriesPerS: p.deliveriesPerS,
      p50Ms: p.latencyMs.p50,
      p99Ms: p.latencyMs.p99,
      duplicatesPerDelivery: p.duplicatesPerDelivery,
      resendsPerFault: p.resendsPerFault,
    })),
    { topology: 'reference (formula)', ran: 'not run', brokers: f.reference.brokers, connections: f.reference.connections, connectionsPerInstance: o.instances, publishesPerEvent: f.reference.publishesPerEvent, eventsPerS: null, deliveriesPerS: null, p50Ms: null, p99Ms: null, duplicatesPerDelivery: null, resendsPerFault: null },
  ];
  const summary: ScaleSummary = {
    name: 'scale',
    pass,
    seconds: Math.round((Date.now() - t0) / 100) / 10,
    run: id,
    backend: cluster.backend,
    nodes: o.nodes,
    instances: o.instances,
    clusterTopology: cluster.topology,
    load: { burstEveryMs: burstEveryFor(o), burstSize: o.burstSize ?? 1, durationS: o.durationS },
    checks,
    notes: notesFor(cluster, phases),
    metrics: { phases, comparison, formulas: f },
  };
  writeFileSync(join(logDir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  for (const line of formatScale(summary).split('\n')) log(line);
  log(`logs: ${logDir}`);
  return { pass, logDir, summary };
}

function notesFor(cluster: ClusterFile, phases: PhaseResult[]): string[] {
  const notes: string[] = [];
  if (cluster.topology === 'clustered' && phases.some((p) => p.topology === 'mesh' && p.ran)) {
    notes.push('mesh ran on a mesh testbed of as many independent brokers (the clustered testbed was taken down meanwhile and brought back fresh after)');
  }
  for (const p of phases) if (!p.ran) notes.push(`${p.topology} did not run: ${p.reason}`);
  for (const p of phases) {
    if (p.failover) {
      notes.push(
        `${p.topology}: publishes per event is approximate: what the killed member ${p.failover.killed} had counted died with its statistics, and the resends after the kill (events it had not confirmed) count again`,
      );
    }
  }
  for (const p of phases) {
    if (p.ran && p.topology === 'clustered' && !p.runtimeTopology.includes('clustered')) notes.push('clustered: the runtime ignored MIROS_TOPOLOGY=clustered (not implemented yet), so this run was a mesh on the cluster');
  }
  return notes;
}

export function formatScale(s: ScaleSummary): string {
  const rows = [
    ['TOPOLOGY', 'BROKERS', 'CONNECTIONS', 'PER INSTANCE', 'PUBLISHES/EVENT', 'EVENTS/S', 'DELIVERIES/S', 'P50 MS', 'P99 MS', 'DUP/DELIVERY', 'RESENDS/FAULT', 'RAN'],
    ...s.metrics.comparison.map((c) =>
      [c.topology, c.brokers, c.connections, c.connectionsPerInstance, c.publishesPerEvent, c.eventsPerS, c.deliveriesPerS, c.p50Ms, c.p99Ms, c.duplicatesPerDelivery, c.resendsPerFault, c.ran].map((v) => (v === null || v === undefined ? '-' : String(v))),
    ),
  ];
  const phases = s.metrics.phases.filter((p) => p.ran).map((p) => {
    const cpu = Object.entries(p.brokerCpuPercent).map(([k, v]) => `${k} ${v ?? '-'}%`).join(', ');
    const fo = p.failover ? `; ${p.failover.killed} killed: ${p.failover.recovered}/${p.failover.homed} of its instances failed over, p50 ${p.failover.p50Ms ?? '-'} ms, max ${p.failover.maxMs ?? '-'} ms` : '';
    const r = p.resends;
    return `${p.topology}: ${p.eventsSent} events, lost ${p.lost} confirmed (${p.missing} missing in all), duplicates dropped ${p.duplicates} (${p.duplicatesPerDelivery ?? '-'} per delivery), resends ${r.total} (nack ${r.nack}, lost ${r.lost}, stalled ${r.stalled}; ${p.faults} fault${p.faults === 1 ? '' : 's'}; bound ${p.resendBound ?? '-'} per fault), redeliveries ${p.redeliveries}, RSS per instance ${p.rssMb.mean} MB (max ${p.rssMb.max}), broker CPU ${cpu}${fo}`;
  });
  const checks = s.checks.map((c) => `${c.pass ? 'PASS' : 'FAIL'}  ${c.name}${c.pass ? '' : `\n        ${c.reasons.join('\n        ')}`}`);
  return [
    `scenario scale: ${s.pass ? 'PASSED' : 'FAILED'} in ${s.seconds} s (${s.instances} instances, ${s.nodes} ${s.clusterTopology} brokers, ${s.backend})`,
    formatColumns(rows),
    ...phases,
    ...s.notes.map((n) => `note: ${n}`),
    ...checks,
  ].join('\n');
}
