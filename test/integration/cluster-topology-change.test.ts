// `cluster up` brings what it says, on one state directory (local backend): a clustered 3,
// then a mesh of 2 (the nodes' data of the cluster is reset, with one line saying so, and
// the two brokers come up alone without waiting on the missing member), then --keep-data
// refuses, then a clustered 3 again. Own addresses, names, epmd and ports (127.0.10.x, tp…,
// epmd 4391): the shared cluster is never touched.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { down, readClusterFile, status, up, type ClusterOptions } from '../../ops/cluster/index.ts';
import { membershipAt } from '../../ops/cluster/membership.ts';
import { opsAdmin } from '../../ops/cluster/admin.ts';

const lines: string[] = [];
const dir = mkdtempSync(join(tmpdir(), 'mirosnet-topology-'));
// a node that waited on a missing member would take minutes: a minute fails the test instead
const opts: ClusterOptions = { dir, addressBase: '127.0.10.11', namePrefix: 'tp', distPortBase: 26600, epmdPort: 4391, startTimeoutMs: 60_000, log: (l) => lines.push(l) };
const members = (...i: number[]) => i.map((n) => `tp${n}@localhost`);
const admin = () => opsAdmin(dir).credentials;

async function views(): Promise<Array<string[] | undefined>> {
  return Promise.all(readClusterFile(dir)!.nodes.map(async (n) => (await membershipAt(n.managementUrl, admin()))?.running));
}

describe('cluster up: clustered 3 → mesh 2 → clustered 3 on one state directory', { timeout: 300_000 }, () => {
  afterAll(async () => {
    await down({ dir, purge: true, log: () => {} });
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it('each up brings the topology it says, and status reports what the brokers report', async () => {
    await up({ ...opts, nodes: 3, topology: 'clustered' });
    expect(await views()).toEqual([members(1, 2, 3), members(1, 2, 3), members(1, 2, 3)]);
    await down({ dir, log: () => {} });

    lines.length = 0;
    await up({ ...opts, nodes: 2, topology: 'mesh' });
    expect(lines.filter((l) => l.startsWith('data reset:'))).toHaveLength(1);
    expect(lines.find((l) => l.startsWith('data reset:'))).toMatch(/^data reset: tp1 \(its data is of a clustered testbed\); tp2 \(.*\) — asked for a mesh testbed of 2/);
    expect(await views()).toEqual([members(1), members(2)]);
    const s = await status({ dir });
    expect(s.nodes.map((n) => [n.node.name, n.state, n.membership?.running])).toEqual([
      ['tp1', 'healthy', members(1)],
      ['tp2', 'healthy', members(2)],
    ]);
    await down({ dir, log: () => {} });

    await expect(up({ ...opts, nodes: 3, topology: 'clustered', keepData: true })).rejects.toMatchObject({
      message: expect.stringMatching(/^--keep-data: the data of tp1 \(its data is of a mesh testbed\), tp2 .*, tp3 .* would not make a clustered testbed of 3$/),
      hint: expect.stringContaining('mirosnet cluster down --purge --dir'),
    });
    await down({ dir, log: () => {} });

    lines.length = 0;
    await up({ ...opts, nodes: 3, topology: 'clustered' });
    expect(lines.find((l) => l.startsWith('data reset:'))).toMatch(/tp1 .*; tp2 .*; tp3 \(.*no longer lists the same cluster\)/);
    expect(readClusterFile(dir)!.cluster!.members).toEqual(members(1, 2, 3));
    expect(await views()).toEqual([members(1, 2, 3), members(1, 2, 3), members(1, 2, 3)]);
  });

  it('the same cluster brought back after down keeps its data: its members start together (none waits on one not started)', async () => {
    await down({ dir, log: () => {} });
    lines.length = 0;
    await up({ ...opts, nodes: 3, topology: 'clustered' });
    expect(lines.filter((l) => l.startsWith('data reset:'))).toEqual([]);
    // together: every member starts before any is ready (seed first would have waited on the others' tables)
    const firstReady = lines.findIndex((l) => / {2}ready in /.test(l));
    expect(lines.slice(0, firstReady).filter((l) => / {2}starting /.test(l))).toHaveLength(3);
    expect(await views()).toEqual([members(1, 2, 3), members(1, 2, 3), members(1, 2, 3)]);
  });
});
