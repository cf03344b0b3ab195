// AMQP probe and discovery against the real brokers of the integration cluster
// (test/setup/cluster.ts brings it up and sets MIROS_CLUSTER_FILE).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { readClusterFile } from '../../runtime/lan/cluster-file.ts';
import { discoverHosts } from '../../runtime/lan/discover.ts';
import { isLoopbackIPv4 } from '../../runtime/lan/ip.ts';
import { probeAmqp } from '../../runtime/lan/probe.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const clusterFile = process.env.MIROS_CLUSTER_FILE ?? path.join(repoRoot, '.cluster', 'cluster.json');
const cluster = readClusterFile(clusterFile);
const creds = cluster.credentials ?? { user: 'peter', password: 'rabbit' };
const [node1, ...others] = cluster.nodes;
const NOBODY = '127.0.0.99'; // a loopback address where nothing listens

const dir = mkdtempSync(path.join(os.tmpdir(), 'miros-lan-probe-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('probeAmqp against real brokers', () => {
  it('logs in to node 1 with the cluster credentials', async () => {
    const r = await probeAmqp(node1.host, { port: node1.amqpPort, ...creds, timeoutMs: 5000 });
    expect(r).toEqual({ ok: true });
  });

  it('every node answers', async () => {
    const results = await Promise.all(cluster.nodes.map((n) => probeAmqp(n.host, { port: n.amqpPort, ...creds, timeoutMs: 5000 })));
    expect(results.every((r) => r.ok), JSON.stringify(results)).toBe(true);
  });

  it('a wrong password is refused, with the reason', async () => {
    const r = await probeAmqp(node1.host, { port: node1.amqpPort, user: creds.user, password: `${creds.password}-wrong`, timeoutMs: 5000 });
    expect(r.ok).toBe(false);
    expect(r.reason).toMatch(/ACCESS.REFUSED|403/);
    expect(r.reason).not.toContain(`${creds.password}-wrong`);
  });

  it('an address where nothing listens is not ok, quickly', async () => {
    const t = Date.now();
    const r = await probeAmqp(NOBODY, { port: node1.amqpPort, ...creds, timeoutMs: 5000 });
    expect(r.ok).toBe(false);
    expect(r.reason).toMatch(/refused/);
    expect(Date.now() - t).toBeLessThan(1500);
  });
});

describe('discoverHosts against real brokers', () => {
  it('reads the cluster file', async () => {
    const d = await discoverHosts({ thisAddress: node1.host, clusterFile });
    expect(d.addresses).toEqual(cluster.nodes.map((n) => n.host));
    expect(d.otherAddresses).toEqual(others.map((n) => n.host));
  });

  it('keeps only the ARP candidates where our credentials log in, and caches them', async () => {
    // an ARP table listing the other nodes and an address with no broker (loopback, so accepted explicitly)
    const arpPath = path.join(dir, 'arp');
    const rows = [...others.map((n) => n.host), NOBODY].map(
      (ip, i) => `${ip.padEnd(17)}0x1         0x2         02:00:00:00:00:${(16 + i).toString(16)}     *        lo`,
    );
    writeFileSync(arpPath, ['IP address       HW type     Flags       HW address            Mask     Device', ...rows, ''].join('\n'));
    const cacheFile = path.join(dir, 'lan-cache.json');
    const d = await discoverHosts({
      thisAddress: node1.host,
      arp: true, arpSendsPasswordInCleartext: true,
      arpPath,
      arpAccept: isLoopbackIPv4,
      probe: { port: node1.amqpPort, ...creds, timeoutMs: 5000 },
      cacheFile,
    });
    expect(d.sources.arp).toEqual(others.map((n) => n.host));
    expect(Object.keys(d.probeFailures)).toEqual([NOBODY]);
    expect(d.addresses).toEqual(cluster.nodes.map((n) => n.host));
    const cached = JSON.parse(readFileSync(cacheFile, 'utf8'));
    expect(cached.addresses).toEqual(others.map((n) => n.host));
    expect(JSON.stringify(cached)).not.toContain(creds.password);
  });
});
