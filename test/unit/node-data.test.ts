// What a stopped node's data remembers, and which data `cluster up` resets (ops/cluster/node-data.ts).
import { mkdtempSync, readFileSync, mkdirSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { markTopology, parseClusterNodes, readNodeData, resetNodeData, restartingMembers, staleData, type NodeData } from '../../ops/cluster/node-data.ts';

const dir = mkdtempSync(join(tmpdir(), 'node-data-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const node = (i: number, members?: number[], topology?: 'mesh' | 'clustered'): NodeData => ({
  name: `n${i}`,
  erlangNode: `n${i}@localhost`,
  members: members?.map((m) => `n${m}@localhost`),
  topology,
});

describe('node data', () => {
  it("parses RabbitMQ's cluster_nodes.config (quoted and bare atoms)", () => {
    expect(parseClusterNodes("{['rabbit@10.77.0.12','rabbit@10.77.0.11'],['rabbit@10.77.0.11']}.\n")).toEqual(['rabbit@10.77.0.11', 'rabbit@10.77.0.12']);
    expect(parseClusterNodes('{[n1@localhost],[n1@localhost]}.')).toEqual(['n1@localhost']);
    expect(parseClusterNodes('')).toBeUndefined();
  });

  it('reads the members and the recorded topology of a data directory; reset deletes it', () => {
    const dataDir = join(dir, 'n2', 'data');
    expect(readNodeData({ name: 'n2', erlangNode: 'n2@localhost', dataDir })).toEqual({ name: 'n2', erlangNode: 'n2@localhost', members: undefined, topology: undefined });
    mkdirSync(join(dataDir, 'n2@localhost'), { recursive: true });
    writeFileSync(join(dataDir, 'n2@localhost', 'cluster_nodes.config'), "{['n1@localhost','n2@localhost'],['n1@localhost','n2@localhost']}.\n");
    markTopology(dataDir, 'clustered');
    expect(readFileSync(join(dataDir, 'mirosnet-topology'), 'utf8')).toBe('clustered\n');
    expect(readNodeData({ name: 'n2', erlangNode: 'n2@localhost', dataDir })).toMatchObject({ members: ['n1@localhost', 'n2@localhost'], topology: 'clustered' });
    resetNodeData(dataDir);
    expect(existsSync(dataDir)).toBe(false);
  });

  it('a mesh after a clustered 3: every node whose data is that cluster is reset', () => {
    const data = [node(1, [1, 2, 3], 'clustered'), node(2, [1, 2, 3], 'clustered'), node(3, [1, 2, 3], 'clustered')];
    expect(staleData('mesh', data.slice(0, 2)).map((s) => s.name)).toEqual(['n1', 'n2']);
    // no marker (an older mirosnet): the members alone tell
    const old = [node(1, [1, 2, 3]), node(2, [1, 2, 3]), node(3, [1, 2, 3])];
    expect(staleData('mesh', old)).toEqual([
      { name: 'n1', reason: 'its data is a cluster with n2@localhost, n3@localhost' },
      { name: 'n2', reason: 'its data is a cluster with n1@localhost, n3@localhost' },
      { name: 'n3', reason: 'its data is a cluster with n1@localhost, n2@localhost' },
    ]);
  });

  it('clustered of fewer nodes than the data holds: reset; of the same or more (growing): kept, and they start together', () => {
    const three = [node(1, [1, 2, 3], 'clustered'), node(2, [1, 2, 3], 'clustered'), node(3, [1, 2, 3], 'clustered')];
    expect(staleData('clustered', three.slice(0, 2)).map((s) => s.reason)).toEqual([
      'its data is a cluster with n3@localhost, outside the 2 asked for',
      'its data is a cluster with n3@localhost, outside the 2 asked for',
    ]);
    expect(staleData('clustered', three)).toEqual([]);
    const grow = [...three, node(4)];
    expect(staleData('clustered', grow)).toEqual([]);
    expect([...restartingMembers(grow, [])]).toEqual(['n1', 'n2', 'n3']);
  });

  it('clustered 3 after mesh 2 after clustered 3: mesh data and the member the others no longer list are reset', () => {
    const data = [node(1, [1], 'mesh'), node(2, [2], 'mesh'), node(3, [1, 2, 3], 'clustered')];
    const stale = staleData('clustered', data);
    expect(stale.map((s) => s.name)).toEqual(['n1', 'n2', 'n3']);
    expect(stale[0].reason).toBe('its data is of a mesh testbed');
    expect(stale[2].reason).toMatch(/whose data no longer lists the same cluster/);
    expect(restartingMembers(data, stale).size).toBe(0);
  });

  it('keeps blank nodes and a mesh restarted as a mesh', () => {
    expect(staleData('mesh', [node(1, [1], 'mesh'), node(2), node(3, [3])])).toEqual([]);
  });
});
