// Topology 'clustered' on the local backend: the nodes form one RabbitMQ cluster, recorded
// in cluster.json and shown by status; it grows and shrinks; a quorum queue gets every
// member; a SIGKILLed member comes back into the cluster with its data. Own addresses,
// names, epmd and ports (127.0.8.x, cl1…, epmd 4385): the shared cluster is never touched.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { down, readClusterFile, status, up, type ClusterOptions } from '../../ops/cluster/index.ts';
import { httpGet } from '../../ops/cluster/health.ts';
import { membershipAt } from '../../ops/cluster/membership.ts';
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
const members = (n: number) => Array.from({ length: n }, (_, i) => `cl${i + 1}@localhost`);

async function quorumMembers(mgmt: string, queue: string): Promise<string[]> {
  const res = await httpGet(`${mgmt}/api/queues/%2F/${queue}?columns=members,type`);
  expect(res.status).toBe(200);
  const q = JSON.parse(res.body) as { type: string; members: string[] };
  expect(q.type).toBe('quorum');
  return [...q.members].sort();
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
      const m = await membershipAt(n.managementUrl);
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
    await ch.assertQueue('cl-quorum', { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    await conn.close();
    expect(await quorumMembers('http://127.0.8.12:15672', 'cl-quorum')).toEqual(members(3));
  });

  it('grows to 4: the new node joins by peer discovery', async () => {
    await up({ ...opts, nodes: 4 });
    expect(readClusterFile(dir)!.cluster!.members).toEqual(members(4));
    expect(await membershipAt('http://127.0.8.11:15672')).toEqual({ running: members(4), stopped: [], partitions: [] });
    expect((await status({ dir })).nodes.every((n) => n.healthy)).toBe(true);
  });

  it('shrinks to 3: the extra node leaves (stop_app, reset) and the others forget it', async () => {
    await up({ ...opts, nodes: 3 });
    expect(lines.some((l) => /^cl4 {2}left the cluster/.test(l))).toBe(true);
    expect(readClusterFile(dir)!.cluster!.members).toEqual(members(3));
    expect(await membershipAt('http://127.0.8.13:15672')).toEqual({ running: members(3), stopped: [], partitions: [] });
  });

  it('a SIGKILLed member shows in status, and up brings it back into the cluster with its data', async () => {
    const victim = readClusterFile(dir)!.nodes[1];
    process.kill(victim.pid, 'SIGKILL');
    let s = await status({ dir });
    expect(s.nodes[1].state).toBe('down');
    await up({ ...opts, nodes: 3 });
    s = await status({ dir });
    expect(s.nodes.map((n) => n.state)).toEqual(['healthy', 'healthy', 'healthy']);
    expect(await quorumMembers('http://127.0.8.11:15672', 'cl-quorum')).toEqual(members(3));
  });

  it('refuses to switch a running cluster to mesh', async () => {
    await expect(up({ ...opts, topology: 'mesh', nodes: 3 })).rejects.toThrow(/different topology/);
  });
});
