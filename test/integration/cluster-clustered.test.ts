// Topology 'clustered' on the local backend: the nodes form one RabbitMQ cluster, recorded
// in cluster.json and shown by status; it grows and shrinks; a quorum queue gets every
// member; a process's charts hold at most 2 AMQP connections (the broker's own listing);
// a member SIGKILLed under traffic: the charts fail over, no confirmed event is lost and
// delivery goes on; a SIGKILLed member comes back into the cluster with its data. Own addresses,
// names, epmd and ports (127.0.8.x, cl1…, epmd 4385): the shared cluster is never touched.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { connect } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChartInUseError, Event, NetworkedActiveObject, ReturnStatus, generateKey, signals, type NetworkedOptions, type TransmissionResult } from '../../runtime/index.ts';
import { sleep, until, waitFor } from '../../ops/util/wait.ts';
import { down, readClusterFile, status, up, type ClusterOptions } from '../../ops/cluster/index.ts';
import { httpGet } from '../../ops/cluster/health.ts';
import { membershipAt } from '../../ops/cluster/membership.ts';
import { opsAdmin } from '../../ops/cluster/admin.ts';
import { formatTable } from '../../ops/cluster/table.ts';

const lines: string[] = [];
const opts: ClusterOptions = {
  dir: mkdtempSync(join(tmpdir(), 'mirosnet-clustered-')),
  topology: 'clustered',
  addressBase: '127.0.8.11',
  namePrefix: 'cl',
  distPortBase: 26400,
  epmdPort: 4385,
  log: (l) => lines.push(l),
};
const dir = opts.dir!;
/** The ops admin (peter is no administrator: /api/nodes, every connection). */
const admin = () => opsAdmin(dir).credentials;
const members = (n: number) => Array.from({ length: n }, (_, i) => `cl${i + 1}@localhost`);

async function quorumMembers(mgmt: string, queue: string): Promise<string[]> {
  const res = await httpGet(`${mgmt}/api/queues/%2F/${queue}?columns=members,type`, admin());
  expect(res.status).toBe(200);
  const q = JSON.parse(res.body) as { type: string; members: string[] };
  expect(q.type).toBe('quorum');
  return [...q.members].sort();
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

interface ClusteredChart {
  chart: NetworkedActiveObject;
  /** The `n` of every TICK it received, in order. */
  got: number[];
}

/** A chart of this test process on the cluster (runtime topology 'clustered'), homed on `host`, recording TICKs. */
function clusteredChart(name: string, host: string, processName: string, key: string): ClusteredChart {
  const got: number[] = [];
  const chart = new NetworkedActiveObject(name, { ...clusteredOptions(host, processName, key), onWarning: () => undefined, output: () => undefined });
  (chart as unknown as { got: number[] }).got = got;
  return { chart, got };
}

/** The options of a chart on the cluster homed on `host` (JSON: a child process may take them too). */
function clusteredOptions(host: string, processName: string, key: string): NetworkedOptions {
  const file = readClusterFile(dir)!;
  return {
    rabbitUser: file.credentials.user,
    rabbitPassword: file.credentials.password,
    meshEncryptionKey: key,
    txRoutingKey: `${processName}.x`,
    rxRoutingKey: `${processName}.x`,
    topology: 'clustered',
    clusterFile: join(dir, 'cluster.json'),
    thisAddress: host,
    processName,
    startTimeoutMs: 30_000,
  };
}

function recording(chart: any, e: Event): ReturnStatus {
  if (e.signalName === 'TICK') {
    chart.got.push((e.payload as { n: number }).n);
    return ReturnStatus.HANDLED;
  }
  if (!signals.isInner(e.signal)) return ReturnStatus.HANDLED;
  return chart.super(chart.top);
}

/** connection_name of every connection the management API at `mgmt` lists (a cluster lists all of its members' connections). */
async function connectionNames(mgmt: string): Promise<string[]> {
  const res = await httpGet(`${mgmt}/api/connections?columns=client_properties`, admin());
  expect(res.status).toBe(200);
  return (JSON.parse(res.body) as Array<{ client_properties?: { connection_name?: string } }>).map((c) => c.client_properties?.connection_name ?? '');
}

describe('cluster: topology clustered (local backend)', { timeout: 300_000 }, () => {
  beforeAll(async () => {
    await up({ ...opts, nodes: 3 });
  }, 300_000);

  afterAll(async () => {
    await down({ dir, log: () => {} });
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it('forms one cluster of 3, seed first, and records it in cluster.json', async () => {
    const file = readClusterFile(dir)!;
    expect(Object.keys(file)).toEqual(['version', 'backend', 'topology', 'createdAt', 'credentials', 'cluster', 'toxics', 'nodes']);
    expect(file.topology).toBe('clustered');
    expect(file.cluster).toEqual({ members: members(3), partitionHandling: 'pause_minority', netTicktime: 10 });
    expect(lines.findIndex((l) => /cl1 {2}ready/.test(l))).toBeLessThan(lines.findIndex((l) => /cl2 {2}starting/.test(l)));
    expect(lines.some((l) => /^cluster of 3 formed in [\d.]+ s/.test(l))).toBe(true);
    for (const n of file.nodes) {
      const m = await membershipAt(n.managementUrl, admin());
      expect(m, n.name).toEqual({ running: members(3), stopped: [], partitions: [] });
    }
  });

  it('status shows every node healthy with its view of the cluster', async () => {
    const s = await status({ dir });
    expect(s.topology).toBe('clustered');
    expect(s.nodes.map((n) => [n.node.name, n.state, n.membership?.running.length])).toEqual([
      ['cl1', 'healthy', 3],
      ['cl2', 'healthy', 3],
      ['cl3', 'healthy', 3],
    ]);
    const table = formatTable(s);
    expect(table).toMatch(/CLUSTER/);
    expect(table).toMatch(/3\/3 running/);
    expect(table).toMatch(/clustered \(3 members, pause_minority, net_ticktime 10 s\)/);
  });

  it('gives a quorum queue every member', async () => {
    const conn = await connect(readClusterFile(dir)!.nodes[0].amqpUrl);
    const ch = await conn.createChannel();
    await ch.assertQueue('miros.cl-quorum', { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    await conn.close();
    expect(await quorumMembers('http://127.0.8.12:15672', 'miros.cl-quorum')).toEqual(members(3));
  });

  it('grows to 4: the new node joins by peer discovery', async () => {
    await up({ ...opts, nodes: 4 });
    expect(readClusterFile(dir)!.cluster!.members).toEqual(members(4));
    expect(await membershipAt('http://127.0.8.11:15672', admin())).toEqual({ running: members(4), stopped: [], partitions: [] });
    expect((await status({ dir })).nodes.every((n) => n.healthy)).toBe(true);
  });

  it('shrinks to 3: the extra node leaves (stop_app, reset) and the others forget it', async () => {
    await up({ ...opts, nodes: 3 });
    expect(lines.some((l) => /^cl4 {2}left the cluster/.test(l))).toBe(true);
    expect(readClusterFile(dir)!.cluster!.members).toEqual(members(3));
    expect(await membershipAt('http://127.0.8.13:15672', admin())).toEqual({ running: members(3), stopped: [], partitions: [] });
  });

  it('a process with four charts holds at most 2 AMQP connections to the cluster; a chart that leaves takes only its own consumer and queue', async () => {
    const file = readClusterFile(dir)!;
    const home = file.nodes[0];
    const program = `conns${process.pid}`;
    const key = generateKey();
    const charts = ['k1', 'k2', 'k3', 'k4'].map((n) => clusteredChart(`${n}-${program}`, home.host, program, key));
    await Promise.all(charts.map((c) => c.chart.startAt(recording)));
    try {
      charts[0].chart.transmit(new Event('TICK', { n: 1 }));
      await waitFor('the first tick at the three other charts', () => charts.slice(1).every((c) => c.got.length === 1), 20_000);
      const mine = async () => (await connectionNames(home.managementUrl)).filter((n) => n.includes(` ${program}[${process.pid}]@`)).sort();
      let names: string[] = [];
      // the management API lists a connection once its first stats are in (every 5 s)
      await until(async () => (names = await mine()).length >= 2, 30_000, 500);
      expect(names).toEqual([`miros/pub ${program}[${process.pid}]@${home.host}`, `miros/sub ${program}[${process.pid}]@${home.host}`]);

      await charts[3].chart.leave();
      const queue = async (chart: ClusteredChart) => (await httpGet(`${home.managementUrl}/api/queues/%2F/${encodeURIComponent(`miros.mesh.${chart.chart.name}@${home.host}`)}`, admin())).status;
      expect(await queue(charts[3])).toBe(404); // its own queue deleted
      expect(await queue(charts[1])).toBe(200); // the others' kept
      charts[0].chart.transmit(new Event('TICK', { n: 2 }));
      await waitFor('the second tick at the two charts still running', () => charts.slice(1, 3).every((c) => c.got.length === 2), 20_000);
      expect(charts[3].got).toEqual([1]);
      expect(await mine()).toEqual(names); // still the same two connections
    } finally {
      await Promise.all(charts.map((c) => c.chart.leave()));
    }
  });

  it('a second live process with the same chart name on the same host is refused clearly (the lock queue; single active consumer alone lets it in)', async () => {
    const file = readClusterFile(dir)!;
    const home = file.nodes[0];
    const key = generateKey();
    const name = `twin-${process.pid}`;
    const first = clusteredChart(name, home.host, 'twin-a', key);
    const options = { ...clusteredOptions(home.host, 'twin-a', key), startTimeoutMs: 3000 };
    await first.chart.startAt(recording);
    try {
      const fixture = new URL('./fixtures/named-chart.mjs', import.meta.url).pathname;
      const env = { ...process.env, MIROS_TEST_CHART: JSON.stringify({ name, options }) }; // secrets: not on argv
      const other = spawn(process.execPath, [fixture], { env, stdio: ['ignore', 'pipe', 'inherit'] });
      let said = '';
      createInterface({ input: other.stdout! }).on('line', (l) => (said = l));
      const [code] = (await once(other, 'exit')) as [number | null];
      expect(code).toBe(1);
      expect(said).toMatch(new RegExp(`^REFUSED CHART_IN_USE chart ${name}: another live process runs a chart of that name on host ${home.host.replaceAll('.', '\\.')}`));
      expect(said).toMatch(/RESOURCE_LOCKED|exclusive/);
      // in this process, a second chart of the name is refused at once
      const twin = clusteredChart(name, home.host, 'twin-b', key);
      await expect(twin.chart.startAt(recording)).rejects.toThrow(ChartInUseError);
      expect(first.chart.networkStats().receiving.state).toBe('up'); // the first goes on
    } finally {
      await first.chart.leave();
    }
  });

  it('a member SIGKILLed under traffic: the charts on it fail over, no confirmed event is lost, delivery goes on, duplicates are counted', async () => {
    const file = readClusterFile(dir)!;
    const victim = file.nodes[1];
    const program = `kill${process.pid}`;
    const key = generateKey();
    const onVictim = clusteredChart(`ka-${program}`, victim.host, program, key); // its pub and sub connections on the victim
    const elsewhere = clusteredChart(`kb-${program}`, file.nodes[0].host, program, key);
    const pair = [onVictim, elsewhere];
    await Promise.all(pair.map((c) => c.chart.startAt(recording)));
    try {
      const sent = new Map<ClusteredChart, Array<{ n: number; settled: Promise<TransmissionResult> }>>(pair.map((c) => [c, []]));
      let n = 0;
      let killedAt = Number.POSITIVE_INFINITY;
      const tick = () => {
        for (const from of pair) sent.get(from)!.push({ n: ++n, settled: from.chart.transmit(new Event('TICK', { n })).settled });
      };
      const traffic = setInterval(tick, 25);
      await waitFor('traffic both ways', () => pair.every((c) => c.got.length >= 20), 20_000);
      killedAt = n;
      process.kill(victim.pid, 'SIGKILL');
      // delivery goes on: each chart gets events sent after the kill
      await waitFor('events sent after the kill, both ways', () => pair.every((c) => c.got.filter((x) => x > killedAt).length >= 40), 60_000, 100);
      clearInterval(traffic);
      const other = (c: ClusteredChart) => (c === onVictim ? elsewhere : onVictim);
      const never = sleep(60_000).then((): TransmissionResult => ({ confirmed: [], unconfirmed: ['no confirm within 60 s'] }));
      // every event is confirmed once the cluster has it (the unconfirmed ones resent once on the new member) ...
      const outcomes = await Promise.all(pair.map(async (c) => ({ c, results: await Promise.all(sent.get(c)!.map(async (s) => ({ n: s.n, r: await Promise.race([s.settled, never]) }))) })));
      for (const { c, results } of outcomes) {
        expect(results.filter((x) => x.r.confirmed.length !== 1).map((x) => x.n), `unconfirmed events of ${c.chart.name}`).toEqual([]);
        // ... and no confirmed event is lost: each reaches the other chart, once
        const confirmed = results.map((x) => x.n);
        await waitFor(`every confirmed event of ${c.chart.name} at the other chart`, () => confirmed.every((x) => other(c).got.includes(x)), 30_000, 100);
      }
      for (const c of pair) {
        expect(new Set(c.got).size, `${c.chart.name} handled a duplicate`).toBe(c.got.length);
        const { mesh, brokers } = c.chart.networkStats();
        // every copy is accounted for: duplicates (an unconfirmed event resent) are counted, never silent
        expect(mesh.received).toBe(mesh.delivered + mesh.self + mesh.duplicates + mesh.dropped);
        expect(mesh.delivered).toBe(c.got.length);
        if (c === onVictim) expect(brokers[0].endpoint, 'the publishing link moved to a surviving member').not.toBe(`${victim.host}:5672`);
        console.log(`${c.chart.name}: sent ${sent.get(c)!.length}, received ${mesh.received}, delivered ${mesh.delivered}, duplicates ${mesh.duplicates}, outbox resent ${brokers[0].resent}, confirm channels replaced ${brokers[0].stalledChannels}, reconnects ${brokers[0].reconnects}`);
      }
    } finally {
      await Promise.all(pair.map((c) => c.chart.leave()));
    }
  });

  it('a SIGKILLed member shows in status, and up brings it back into the cluster with its data', async () => {
    const victim = readClusterFile(dir)!.nodes[1];
    if (alive(victim.pid)) process.kill(victim.pid, 'SIGKILL'); // the test above may have killed it already
    let s = await status({ dir });
    expect(s.nodes[1].state).toBe('down');
    await up({ ...opts, nodes: 3 });
    s = await status({ dir });
    expect(s.nodes.map((n) => n.state)).toEqual(['healthy', 'healthy', 'healthy']);
    expect(await quorumMembers('http://127.0.8.11:15672', 'miros.cl-quorum')).toEqual(members(3));
  });

  it('refuses to switch a running cluster to mesh', async () => {
    await expect(up({ ...opts, topology: 'mesh', nodes: 3 })).rejects.toThrow(/different topology/);
  });
});
