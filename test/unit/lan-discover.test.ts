import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeCacheFile } from '../../runtime/lan/cache-file.ts';
import { discoverHosts } from '../../runtime/lan/discover.ts';
import type { ProbeOptions } from '../../runtime/lan/probe.ts';
import { sleep } from '../../ops/util/wait.ts';
import { clusterFixture } from './cluster-fixture.ts';

// No test here touches the network: ARP comes from a fixture file and the probe is a fake.
const dir = mkdtempSync(path.join(os.tmpdir(), 'miros-discover-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
};
const arpPath = file(
  'arp',
  `IP address       HW type     Flags       HW address            Mask     Device
192.168.1.1      0x1         0x2         00:11:22:33:44:55     *        eth0
192.168.1.75     0x1         0x2         aa:bb:cc:dd:ee:01     *        eth0
192.168.1.76     0x1         0x2         aa:bb:cc:dd:ee:02     *        eth0
192.168.1.80     0x1         0x0         00:00:00:00:00:00     *        eth0
192.168.1.90     0x1         0x2         aa:bb:cc:dd:ee:03     *        eth0
`,
);
const creds: ProbeOptions = { user: 'peter', password: 'rabbit', timeoutMs: 100 };
const fakeProbe = (up: string[], calls: string[] = []) => async (host: string, opts: ProbeOptions) => {
  calls.push(host);
  expect(opts).toEqual(creds);
  await sleep(5);
  return up.includes(host) ? { ok: true } : { ok: false, reason: 'connection refused (nothing listening)' };
};

describe('discoverHosts', () => {
  it('combines the listed sources, own address first', async () => {
    const hostsFile = file('hosts.json', '{"hosts": ["127.0.0.13", "127.0.0.12"]}');
    const clusterFile = file('cluster.json', JSON.stringify(clusterFixture(['127.0.0.11', '127.0.0.14'])));
    const d = await discoverHosts({ thisAddress: '127.0.0.11', hosts: ['127.0.0.12'], hostsFile, clusterFile });
    expect(d.thisAddress).toBe('127.0.0.11');
    expect(d.addresses).toEqual(['127.0.0.11', '127.0.0.12', '127.0.0.13', '127.0.0.14']);
    expect(d.otherAddresses).toEqual(['127.0.0.12', '127.0.0.13', '127.0.0.14']);
    expect(d.sources).toEqual({ hosts: ['127.0.0.12'], hostsFile: ['127.0.0.13', '127.0.0.12'], clusterFile: ['127.0.0.11', '127.0.0.14'] });
  });

  it('finds its own address from the listed peers when not given', async () => {
    const d = await discoverHosts({ hosts: ['127.0.0.12'] });
    expect(d.thisAddress).toBe('127.0.0.1');
    expect(d.addresses).toEqual(['127.0.0.1', '127.0.0.12']);
  });

  it('a missing default hosts file is no error; a required one or a bad one is', async () => {
    const missing = path.join(dir, 'no-hosts.json');
    expect((await discoverHosts({ thisAddress: '127.0.0.11', hostsFile: missing })).sources.hostsFile).toEqual([]);
    await expect(discoverHosts({ thisAddress: '127.0.0.11', hostsFile: missing, hostsFileRequired: true })).rejects.toThrow(/no-hosts\.json: hosts file not found/);
    await expect(discoverHosts({ thisAddress: '127.0.0.11', hostsFile: file('bad-hosts.json', '{"hosts": 1}') })).rejects.toThrow(/bad-hosts\.json/);
  });

  it('probes ARP candidates and keeps those that log in, then caches them', async () => {
    const cacheFile = path.join(dir, 'scan-cache.json');
    const calls: string[] = [];
    const d = await discoverHosts({
      thisAddress: '192.168.1.50',
      hosts: ['192.168.1.76'],
      arp: true, arpSendsPasswordInCleartext: true,
      arpPath,
      probe: creds,
      probeFn: fakeProbe(['192.168.1.75', '192.168.1.76'], calls),
      probeConcurrency: 2,
      cacheFile,
      cacheMaxAgeMinutes: 10,
      now: () => Date.parse('2026-01-01T00:00:00Z'),
    });
    // 192.168.1.76 is listed already (not probed), .80 is incomplete (not probed)
    expect(calls.sort()).toEqual(['192.168.1.1', '192.168.1.75', '192.168.1.90']);
    expect(d.sources.arp).toEqual(['192.168.1.75']);
    expect(d.addresses).toEqual(['192.168.1.50', '192.168.1.76', '192.168.1.75']);
    expect(d.probeFailures).toEqual({
      '192.168.1.1': 'connection refused (nothing listening)',
      '192.168.1.90': 'connection refused (nothing listening)',
    });
    expect(JSON.parse(readFileSync(cacheFile, 'utf8'))).toEqual({ addresses: ['192.168.1.75'], updatedAt: '2026-01-01T00:00:00.000Z', maxAgeMinutes: 10 });
  });

  it('a fresh cache stands in for the scan; an expired one does not', async () => {
    const cacheFile = path.join(dir, 'fresh-cache.json');
    const t0 = Date.parse('2026-01-01T00:00:00Z');
    writeCacheFile(cacheFile, ['192.168.1.99'], { maxAgeMinutes: 30, now: t0 });
    const calls: string[] = [];
    const base = { thisAddress: '192.168.1.50', arp: true, arpSendsPasswordInCleartext: true, arpPath, probe: creds, probeFn: fakeProbe(['192.168.1.90'], calls), cacheFile };
    const fresh = await discoverHosts({ ...base, now: () => t0 + 60_000 });
    expect(calls).toEqual([]);
    expect(fresh.sources).toEqual({ cache: ['192.168.1.99'] });
    expect(fresh.otherAddresses).toEqual(['192.168.1.99']);

    const expired = await discoverHosts({ ...base, now: () => t0 + 31 * 60_000 });
    expect(calls.length).toBe(4);
    expect(expired.sources).toEqual({ arp: ['192.168.1.90'] });
    expect(JSON.parse(readFileSync(cacheFile, 'utf8')).addresses).toEqual(['192.168.1.90']);

    const refreshed = await discoverHosts({ ...base, refresh: true });
    expect(refreshed.sources.arp).toEqual(['192.168.1.90']);
  });

  it('an unusable cache is a warning, and a failing probe is a failure, not a crash', async () => {
    const cacheFile = file('junk-cache.json', 'junk');
    const d = await discoverHosts({
      thisAddress: '192.168.1.50',
      arp: true, arpSendsPasswordInCleartext: true,
      arpPath,
      probe: creds,
      probeFn: async () => {
        throw new Error('boom');
      },
      cacheFile,
    });
    expect(d.warnings[0]).toMatch(/cache ignored: .*junk-cache\.json/);
    expect(d.sources.arp).toEqual([]);
    expect(d.probeFailures['192.168.1.75']).toBe('boom');
  });

  it('ARP discovery needs credentials and is off by default', async () => {
    await expect(discoverHosts({ thisAddress: '192.168.1.50', arp: true, arpSendsPasswordInCleartext: true, arpPath })).rejects.toThrow(/credentials/);
    const d = await discoverHosts({ thisAddress: '192.168.1.50', arpPath });
    expect(d.sources).toEqual({});
    expect(d.addresses).toEqual(['192.168.1.50']);
  });

  it('logs in to ARP neighbours only over verified TLS, or with arpSendsPasswordInCleartext', async () => {
    const run = async (extra: { probe: ProbeOptions; arpSendsPasswordInCleartext?: boolean }) => {
      const calls: string[] = [];
      const d = await discoverHosts({
        thisAddress: '192.168.1.50',
        arp: true,
        arpPath,
        probeFn: async (host) => (calls.push(host), { ok: false, reason: 'refused' }),
        ...extra,
      });
      return { calls, d };
    };
    const cleartext = await run({ probe: creds });
    expect(cleartext.calls).toEqual([]); // no password went to any neighbour
    expect(cleartext.d.sources.arp).toBeUndefined();
    expect(cleartext.d.warnings.join(' ')).toMatch(/ARP discovery skipped: .*cleartext.*arpSendsPasswordInCleartext/);
    const unverified = await run({ probe: { ...creds, tls: { rejectUnauthorized: false } } });
    expect(unverified.calls).toEqual([]);
    const verified = await run({ probe: { ...creds, tls: {} } });
    expect(verified.calls.sort()).toEqual(['192.168.1.1', '192.168.1.75', '192.168.1.76', '192.168.1.90']);
    const accepted = await run({ probe: creds, arpSendsPasswordInCleartext: true });
    expect(accepted.calls).toHaveLength(4);
    expect(accepted.d.warnings).toEqual([]);
  });

  it('bounds the number of probes in flight', async () => {
    const many = file('arp-many', 'IP address HW type Flags HW address Mask Device\n' +
      Array.from({ length: 40 }, (_, i) => `10.9.0.${i + 1} 0x1 0x2 02:00:00:00:00:${(i + 16).toString(16)} * eth0`).join('\n'));
    let inFlight = 0;
    let peak = 0;
    const d = await discoverHosts({
      thisAddress: '10.9.0.200',
      arp: true, arpSendsPasswordInCleartext: true,
      arpPath: many,
      probe: creds,
      probeConcurrency: 5,
      probeFn: async (host) => {
        peak = Math.max(peak, ++inFlight);
        await sleep(2);
        inFlight--;
        return { ok: host.endsWith('.7') };
      },
    });
    expect(peak).toBe(5);
    expect(d.sources.arp).toEqual(['10.9.0.7']);
  });
});
