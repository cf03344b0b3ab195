// What ops/cluster writes is cluster.json version 2 (docs/design/links-and-backends.md §6),
// built as up() builds it (clusterNode per NodeSpec), and it passes the runtime's reader.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readClusterFile as readClusterDir, writeClusterFile } from '../../ops/cluster/cluster-file.ts';
import { ClusterError } from '../../ops/cluster/errors.ts';
import { CREDENTIALS, clusterNode, nodeSpec, resolveOptions } from '../../ops/cluster/options.ts';
import { readClusterFile } from '../../runtime/lan/cluster-file.ts';
import { clusterFixture } from './cluster-fixture.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'miros-cluster-writer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const NODE_KEYS = ['name', 'index', 'host', 'amqpPort', 'managementPort', 'amqpUrl', 'managementUrl', 'prometheusPort', 'erlangNode', 'distPort', 'pid', 'namespace', 'container', 'dataDir', 'logFile'];

describe('writeClusterFile', () => {
  // two nodes as ops/cluster's up() sees them: one NodeSpec each, given to clusterNode
  const specsOf = (backend: 'local' | 'netns') => {
    const o = resolveOptions({ dir: mkdtempSync(path.join(dir, `${backend}-`)), backend, nodes: 2, log: () => {} });
    return { o, nodes: [1, 2].map((i) => nodeSpec(o, i)) };
  };

  it('writes version 2 for a local node, which the reader takes as it is', () => {
    const { o, nodes } = specsOf('local');
    const draft = { backend: 'local' as const, createdAt: '2026-01-01T00:00:00.000Z', credentials: { ...CREDENTIALS }, nodes: nodes.map((s, i) => clusterNode(s, 500 + i)) };
    const written = writeClusterFile(o.dir, draft);
    expect(written).toEqual({ version: 2, topology: 'mesh', toxics: { proxy: false, netem: false }, ...draft });
    const onDisk = JSON.parse(readFileSync(path.join(o.dir, 'cluster.json'), 'utf8')) as unknown;
    expect(onDisk).toEqual(written);
    expect(readClusterFile(path.join(o.dir, 'cluster.json'))).toEqual(written);
    expect(readClusterDir(o.dir)).toEqual(written);
    expect(written).toMatchObject({ version: 2, topology: 'mesh', toxics: { proxy: false, netem: false } });
    expect('cluster' in written).toBe(false);
    expect(Object.keys(written.nodes[0])).toEqual(NODE_KEYS); // no proxy without --toxics
    expect(written.nodes[0]).toMatchObject({ name: 'n1', host: '127.0.0.11', prometheusPort: 15692, erlangNode: 'n1@localhost', distPort: 25681, pid: 500, namespace: null, container: null, dataDir: path.join(o.dir, 'n1', 'data') });
    expect(written.nodes[1].distPort).toBe(25682);
  });

  it('fills namespace for netns', () => {
    const { o, nodes } = specsOf('netns');
    const written = writeClusterFile(o.dir, { backend: 'netns', createdAt: '2026-01-01T00:00:00.000Z', credentials: { ...CREDENTIALS }, nodes: nodes.map((s) => clusterNode(s, 700)) });
    expect(written.nodes.map((n) => [n.erlangNode, n.distPort, n.namespace, n.container])).toEqual([
      ['rabbit@10.77.0.11', 25672, 'mrn-1', null],
      ['rabbit@10.77.0.12', 25672, 'mrn-2', null],
    ]);
    expect(readClusterDir(o.dir)).toEqual(written);
  });

  it('never writes what the reader would refuse', () => {
    const d = mkdtempSync(path.join(dir, 'bad-'));
    const { nodes, ...rest } = clusterFixture(['127.0.0.11']);
    expect(() => writeClusterFile(d, { ...rest, topology: 'clustered', nodes })).toThrow(/cluster must be an object/);
    expect(readClusterDir(d)).toBeUndefined();
  });
});

describe('readClusterFile (ops)', () => {
  it('a newer version asks for an upgrade, not for a new cluster', () => {
    const d = mkdtempSync(path.join(dir, 'newer-'));
    writeFileSync(path.join(d, 'cluster.json'), JSON.stringify({ ...clusterFixture(['127.0.0.11']), version: 3 }));
    let caught: unknown;
    try {
      readClusterDir(d);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ClusterError);
    expect((caught as ClusterError).message).toBe(`cannot read ${path.join(d, 'cluster.json')}: written by a newer mirosnet (version 3); upgrade miros-rabbitmq`);
    expect((caught as ClusterError).hint).toMatch(/upgrade/);
  });
});
