import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { arpCandidates, parseArpTable } from '../../runtime/lan/arp.ts';
import { readCacheFile, writeCacheFile } from '../../runtime/lan/cache-file.ts';
import { NewerClusterFileError, completeClusterFile, readClusterFile, readClusterHosts, type ClusterFile } from '../../runtime/lan/cluster-file.ts';
import { LanFileError } from '../../runtime/lan/errors.ts';
import { readHostsFile } from '../../runtime/lan/hosts-file.ts';
import { isPrivateIPv4 } from '../../runtime/lan/ip.ts';
import { clusterFixture } from './cluster-fixture.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'miros-lan-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
};

const ARP_FIXTURE = `IP address       HW type     Flags       HW address            Mask     Device
192.168.1.1      0x1         0x2         00:11:22:33:44:55     *        eth0
192.168.1.75     0x1         0x2         AA:BB:CC:DD:EE:01     *        eth0
192.168.1.80     0x1         0x0         00:00:00:00:00:00     *        eth0
10.77.0.11       0x1         0x6         02:00:00:00:00:0b     *        br0
172.16.5.4       0x1         0x2         02:00:00:00:00:0c     *        eth1
172.32.0.1       0x1         0x2         02:00:00:00:00:0d     *        eth1
8.8.8.8          0x1         0x2         02:00:00:00:00:0e     *        eth0
10.0.0.9         0x1         0x2         00:00:00:00:00:00     *        eth0
192.168.1.75     0x1         0x2         aa:bb:cc:dd:ee:01     *        eth0
garbage line
`;

describe('ARP table', () => {
  it('parses every IPv4 row', () => {
    const rows = parseArpTable(ARP_FIXTURE);
    expect(rows).toHaveLength(9);
    expect(rows[0]).toEqual({ ip: '192.168.1.1', hwType: 1, flags: 2, mac: '00:11:22:33:44:55', device: 'eth0' });
  });
  it('keeps complete private entries with a MAC, in order, once', () => {
    expect(arpCandidates(ARP_FIXTURE)).toEqual(['192.168.1.1', '192.168.1.75', '10.77.0.11', '172.16.5.4']);
  });
  it('takes another filter', () => {
    expect(arpCandidates(ARP_FIXTURE, (ip) => ip.startsWith('10.77.'))).toEqual(['10.77.0.11']);
    expect(arpCandidates('')).toEqual([]);
  });
  it('knows the private ranges', () => {
    for (const ip of ['10.0.0.1', '172.16.0.1', '172.31.255.255', '192.168.0.1']) expect(isPrivateIPv4(ip), ip).toBe(true);
    for (const ip of ['172.15.0.1', '172.32.0.1', '192.169.0.1', '127.0.0.1', '8.8.8.8', 'host', '::1']) expect(isPrivateIPv4(ip), ip).toBe(false);
  });
});

describe('hosts file', () => {
  it('reads the reference format', () => {
    expect(readHostsFile(file('h1.json', '{"hosts": ["192.168.1.75", " www.example.test "]}'))).toEqual(['192.168.1.75', 'www.example.test']);
    expect(readHostsFile(file('h2.json', '{"hosts": []}'))).toEqual([]);
  });
  it('a missing file is [] when optional, an error otherwise', () => {
    const missing = path.join(dir, 'none.json');
    expect(readHostsFile(missing, { optional: true })).toEqual([]);
    expect(() => readHostsFile(missing)).toThrow(/none\.json: hosts file not found/);
  });
  it('a bad file names the file and what is wrong', () => {
    const cases: Array<[string, RegExp]> = [
      ['{"hosts": ["a",', /not valid JSON/],
      ['["192.168.1.75"]', /must be a JSON object/],
      ['{"host": []}', /no "hosts" array/],
      ['{"hosts": ["ok", 5]}', /hosts\[1\] must be a non-empty string.*got 5/],
      ['{"hosts": ["amqp://u:p@h"]}', /hosts\[0\] must be a bare address/],
    ];
    for (const [i, [text, message]] of cases.entries()) {
      const p = file(`bad${i}.json`, text);
      let caught: unknown;
      try {
        readHostsFile(p);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(LanFileError);
      expect((caught as LanFileError).file).toBe(p);
      expect((caught as Error).message.startsWith(p)).toBe(true);
      expect((caught as Error).message).toMatch(message);
    }
  });
});

describe('cache file', () => {
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  it('writes atomically and reads back fresh, then expired', () => {
    const p = path.join(dir, 'cache.json');
    writeCacheFile(p, ['192.168.1.75'], { maxAgeMinutes: 30, now: t0 });
    expect(JSON.parse(readFileSync(p, 'utf8'))).toEqual({ addresses: ['192.168.1.75'], updatedAt: '2026-01-01T00:00:00.000Z', maxAgeMinutes: 30 });
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(readCacheFile(p, { now: t0 + 29 * 60_000 })).toMatchObject({ status: 'fresh', addresses: ['192.168.1.75'], maxAgeMinutes: 30 });
    expect(readCacheFile(p, { now: t0 + 31 * 60_000 }).status).toBe('expired');
    expect(readCacheFile(p, { now: t0 + 5 * 60_000, maxAgeMinutes: 1 }).status).toBe('expired');
    expect(readCacheFile(p, { now: t0, maxAgeMinutes: 0 }).status).toBe('expired');
    expect(readCacheFile(p, { now: t0 - 3_600_000 }).status).toBe('expired'); // written in the future
    writeCacheFile(p, ['10.0.0.1', '10.0.0.2'], { now: t0 });
    expect(readCacheFile(p, { now: t0 }).addresses).toEqual(['10.0.0.1', '10.0.0.2']);
  });
  it('never stores credentials', () => {
    const p = path.join(dir, 'cache2.json');
    expect(() => writeCacheFile(p, ['amqp://bob:dobbs@192.168.1.75:5672/'])).toThrow(LanFileError);
    writeCacheFile(p, ['192.168.1.75']);
    expect(readFileSync(p, 'utf8')).not.toMatch(/amqp|password|dobbs/);
  });
  it('reads the reference format, aged by mtime, and replaces it without its URLs', () => {
    const p = file(
      'ref-cache.json',
      JSON.stringify({ addresses: ['192.168.1.75'], amqp_urls: ['amqp://bob:dobbs@192.168.1.75:5672/%2F'], time_out_in_minutes: 30 }),
    );
    const mtime = new Date(t0);
    utimesSync(p, mtime, mtime);
    expect(readCacheFile(p, { now: t0 + 60_000 })).toMatchObject({ status: 'fresh', addresses: ['192.168.1.75'], maxAgeMinutes: 30 });
    expect(readCacheFile(p, { now: t0 + 31 * 60_000 }).status).toBe('expired');
    writeCacheFile(p, ['192.168.1.75']);
    expect(readFileSync(p, 'utf8')).not.toContain('dobbs');
  });
  it('reports missing and invalid caches without throwing', () => {
    expect(readCacheFile(path.join(dir, 'nope.json')).status).toBe('missing');
    for (const [i, text] of ['not json', '[]', '{"addresses": "x"}', '{"addresses": [], "updatedAt": "yesterday"}', '{"addresses": [], "maxAgeMinutes": -1}'].entries()) {
      const r = readCacheFile(file(`badcache${i}.json`, text));
      expect(r.status, text).toBe('invalid');
      expect(r.problem).toContain(`badcache${i}.json`);
      expect(r.addresses).toEqual([]);
    }
  });
  it('a failed write leaves no temp file and says why', () => {
    if (process.getuid?.() === 0) return; // root ignores directory permissions
    const ro = mkdtempSync(path.join(dir, 'ro-'));
    chmodSync(ro, 0o555);
    try {
      expect(() => writeCacheFile(path.join(ro, 'c.json'), [])).toThrow(/cannot write cache file/);
      expect(readdirSync(ro)).toEqual([]);
    } finally {
      chmodSync(ro, 0o755);
    }
  });
  it('a failed write into a missing directory says why', () => {
    expect(() => writeCacheFile(path.join(dir, 'no', 'such', 'c.json'), [])).toThrow(/cannot write cache file/);
  });
});

describe('cluster file', () => {
  const cluster = clusterFixture(['127.0.0.11', '127.0.0.12', '127.0.0.13']);
  it('gives the hosts and credentials', () => {
    const p = file('cluster.json', JSON.stringify(cluster));
    expect(readClusterHosts(p)).toEqual(['127.0.0.11', '127.0.0.12', '127.0.0.13']);
    const info = readClusterFile(p);
    expect(info).toEqual(cluster);
    expect(info.credentials).toEqual({ user: 'peter', password: 'rabbit' });
    expect(info.nodes[0]).toMatchObject({ name: 'n1', host: '127.0.0.11', amqpPort: 5672, amqpUrl: 'amqp://peter:rabbit@127.0.0.11:5672/%2F' });
  });
  it('names the file and the problem', () => {
    expect(() => readClusterHosts(path.join(dir, 'missing-cluster.json'))).toThrow(/missing-cluster\.json: cluster file not found/);
    expect(() => readClusterHosts(file('c1.json', '{}'))).toThrow(/c1\.json: cluster file has no "nodes" array/);
    expect(() => readClusterHosts(file('c2.json', '{"nodes":[{"host":""}]}'))).toThrow(/nodes\[0\]\.host/);
    expect(() => readClusterHosts(file('c3.json', '{"nodes":[{"host":"h","amqpPort":"x"}]}'))).toThrow(/nodes\[0\]\.amqpPort/);
    const { pid: _, ...noPid } = cluster.nodes[1];
    expect(() => readClusterHosts(file('c4.json', JSON.stringify({ ...cluster, nodes: [cluster.nodes[0], noPid] })))).toThrow(/nodes\[1\]\.pid must be a whole number/);
    expect(() => readClusterHosts(file('c5.json', JSON.stringify({ ...cluster, backend: 'vm' })))).toThrow(/backend must be one of local, netns, docker/);
    expect(() => readClusterHosts(file('c6.json', JSON.stringify({ ...cluster, credentials: { user: 'peter' } })))).toThrow(/credentials\.password/);
  });
});

// cluster.json version 2 (docs/design/links-and-backends.md §6): v1 files migrate in memory,
// newer ones are refused clearly, bad v2 fields are named.
let count = 0;
const clusterJson = (value: unknown) => file(`v2-${++count}.json`, typeof value === 'string' ? value : JSON.stringify(value, null, 2) + '\n');
const problem = (p: string): string => {
  try {
    readClusterFile(p);
  } catch (err) {
    expect(err).toBeInstanceOf(LanFileError);
    return (err as Error).message.slice(p.length + 2);
  }
  throw new Error(`${p} was read without error`);
};

/** A version 1 cluster.json exactly as main wrote it before version 2 (clusterNode of then). */
function v1File(backend: 'local' | 'netns' | 'docker', hosts: string[]) {
  return {
    backend,
    createdAt: '2026-01-01T00:00:00.000Z',
    credentials: { user: 'peter', password: 'rabbit' },
    nodes: hosts.map((host, i) => ({
      name: `n${i + 1}`,
      index: i + 1,
      host,
      amqpPort: 5672,
      managementPort: 15672,
      amqpUrl: `amqp://peter:rabbit@${host}:5672/%2F`,
      managementUrl: `http://${host}:15672`,
      erlangNode: backend === 'netns' ? `rabbit@${host}` : `n${i + 1}@localhost`,
      pid: 4000 + i,
      dataDir: `/work/main/.cluster/n${i + 1}/data`,
      logFile: `/work/main/.cluster/n${i + 1}/log/rabbit.log`,
    })),
  };
}

const NODE_KEYS = ['name', 'index', 'host', 'amqpPort', 'managementPort', 'amqpUrl', 'managementUrl', 'erlangNode', 'distPort', 'pid', 'namespace', 'container', 'dataDir', 'logFile'];

describe('cluster.json version 1', () => {
  it('reads as version 2 with the migrated defaults, and the file is left as it was', () => {
    const v1 = v1File('local', ['127.0.0.11', '127.0.0.12']);
    const p = clusterJson(v1);
    const before = readFileSync(p, 'utf8');
    const read = readClusterFile(p);
    expect(read).toEqual({
      version: 2,
      backend: 'local',
      topology: 'mesh',
      createdAt: v1.createdAt,
      credentials: v1.credentials,
      toxics: { proxy: false, netem: false },
      nodes: v1.nodes.map((n) => ({ ...n, distPort: null, namespace: null, container: null })),
    });
    expect(Object.keys(read)).toEqual(['version', 'backend', 'topology', 'createdAt', 'credentials', 'toxics', 'nodes']);
    expect('cluster' in read).toBe(false);
    for (const n of read.nodes) expect(Object.keys(n)).toEqual(NODE_KEYS);
    expect(readClusterHosts(p)).toEqual(['127.0.0.11', '127.0.0.12']);
    expect(readFileSync(p, 'utf8')).toBe(before); // migrated in memory only
  });

  it('never guesses the new node fields from the backend', () => {
    for (const backend of ['netns', 'docker'] as const) {
      const n = readClusterFile(clusterJson(v1File(backend, ['10.77.0.11']))).nodes[0];
      expect([n.distPort, n.namespace, n.container], backend).toEqual([null, null, null]);
    }
  });

  it('an explicit version 1 reads the same, and a v1 file still names its bad fields', () => {
    const v1 = v1File('local', ['127.0.0.11']);
    expect(readClusterFile(clusterJson({ version: 1, ...v1 }))).toEqual(readClusterFile(clusterJson(v1)));
    const { pid: _, ...noPid } = v1.nodes[0];
    expect(problem(clusterJson({ ...v1, nodes: [noPid] }))).toBe('nodes[0].pid must be a whole number ≥ 0');
  });
});

describe('cluster.json version 2', () => {
  it('round-trips', () => {
    const mesh = clusterFixture(['127.0.0.11', '127.0.0.12', '127.0.0.13']);
    expect(readClusterFile(clusterJson(mesh))).toEqual(mesh);
    const clustered: ClusterFile = completeClusterFile({
      ...mesh,
      backend: 'netns',
      topology: 'clustered',
      cluster: { members: mesh.nodes.map((n) => n.erlangNode), partitionHandling: 'pause_minority', netTicktime: 10 },
      toxics: { proxy: true, netem: false },
      nodes: mesh.nodes.map((n, i) => ({
        ...n,
        namespace: `mrn-${i + 1}`,
        proxy: { pid: 41410 + i, listen: `${n.host}:5672`, broker: '127.0.0.1:5672', control: `/srv/n${i + 1}/proxy.sock` },
      })),
    });
    const read = readClusterFile(clusterJson(clustered));
    expect(read).toEqual(clustered);
    expect(JSON.stringify(read)).toBe(JSON.stringify(clustered)); // key order too
  });

  it('a newer version is refused, not misread', () => {
    const p = clusterJson({ ...clusterFixture(['127.0.0.11']), version: 3, nodes: 'reshaped' });
    expect(() => readClusterFile(p)).toThrow(NewerClusterFileError);
    expect(problem(p)).toBe('written by a newer mirosnet (version 3); upgrade miros-rabbitmq');
  });

  it('names a missing or bad new field', () => {
    const good = clusterFixture(['127.0.0.11', '127.0.0.12']);
    const clustered = { ...good, topology: 'clustered', cluster: { members: ['n1@localhost'], partitionHandling: 'autoheal', netTicktime: 10 } };
    const without = <T extends object>(o: T, key: keyof T) => Object.fromEntries(Object.entries(o).filter(([k]) => k !== key));
    const node = (i: number, patch: object) => ({ ...good, nodes: good.nodes.map((n, j) => (j === i ? { ...n, ...patch } : n)) });
    const cases: Array<[unknown, string]> = [
      [{ ...good, version: 'two' }, 'version must be a whole number ≥ 1 (a version 1 file has none)'],
      [{ ...good, version: 0 }, 'version must be a whole number ≥ 1 (a version 1 file has none)'],
      [without(good, 'topology'), 'topology must be one of mesh, clustered'],
      [{ ...good, topology: 'star' }, 'topology must be one of mesh, clustered'],
      [without(good, 'toxics'), 'toxics must be an object'],
      [{ ...good, toxics: { proxy: false } }, 'toxics.netem must be true or false'],
      [{ ...good, toxics: { proxy: 'no', netem: false } }, 'toxics.proxy must be true or false'],
      [{ ...good, nodes: [good.nodes[0], without(good.nodes[1], 'distPort')] }, 'nodes[1].distPort must be a port number or null'],
      [node(0, { distPort: 0 }), 'nodes[0].distPort must be a port number or null'],
      [node(1, { namespace: 5 }), 'nodes[1].namespace must be a non-empty string or null'],
      [{ ...good, nodes: [without(good.nodes[0], 'container'), good.nodes[1]] }, 'nodes[0].container must be a non-empty string or null'],
      [node(0, { proxy: { listen: 'a:1', broker: 'b:2', control: '/c' } }), 'nodes[0].proxy.pid must be a whole number ≥ 1'],
      [node(1, { proxy: null }), 'nodes[1].proxy must be an object'],
      [{ ...good, topology: 'clustered' }, 'cluster must be an object'],
      [{ ...good, cluster: clustered.cluster }, 'cluster must be absent when topology is mesh'],
      [{ ...clustered, cluster: { ...clustered.cluster, members: [] } }, 'cluster.members must be a non-empty array of non-empty strings'],
      [{ ...clustered, cluster: { ...clustered.cluster, partitionHandling: 'ignore' } }, 'cluster.partitionHandling must be one of pause_minority, autoheal'],
      [{ ...clustered, cluster: { ...clustered.cluster, netTicktime: 0 } }, 'cluster.netTicktime must be a whole number ≥ 1'],
    ];
    for (const [value, message] of cases) expect(problem(clusterJson(value)), message).toBe(message);
    expect(readClusterFile(clusterJson(clustered)).cluster).toEqual(clustered.cluster);
  });
});
