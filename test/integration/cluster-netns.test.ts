// The netns backend (root): each host is a network namespace with its own
// address on a bridge and its own RabbitMQ. Runs an isolated cluster (mrt-1,
// mrt-2 on 10.77.100.0/24, a temp dir) so a `make cluster BACKEND=netns` on
// 10.77.0.0/24 is never disturbed. As a non-root user the suite is skipped, and
// named so in the closing line (NEEDS ROOT); as root, where namespaces cannot be
// created, the tests FAIL with the reason.
import { execFileSync, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { discoverHosts } from '../../runtime/lan/index.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { down, heal, partition, status, up, type StartedCluster } from '../../ops/cluster/index.ts';
import { readState } from '../../ops/cluster/cluster-file.ts';
import { httpGet } from '../../ops/cluster/health.ts';
import { opsAdmin } from '../../ops/cluster/admin.ts';
import { isRunning } from '../../ops/cluster/process.ts';
import { amqpLogin, isolatedOptions, withCredentials } from './cluster-helpers.ts';

const NS = 'mrt';
const opts = isolatedOptions({ backend: 'netns', nodes: 2, nsPrefix: NS, addressBase: '10.77.100.11' });
const dir = opts.dir!;
let cluster: StartedCluster;

/** Throws (failing every test here) with the reason when this machine cannot make namespaces. */
function requireNetns(): void {
  const probe = `${NS}-probe`;
  const r = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw new Error(`NETNS TESTS CANNOT RUN: 'ip netns add' failed here: ${(r.error?.message ?? r.stderr).trim()} (needs root with CAP_SYS_ADMIN and iproute2)`);
  }
  spawnSync('ip', ['netns', 'del', probe]);
}

/** TCP connect from inside namespace `ns`: 'open' or the error code. */
function probeFrom(ns: string, host: string, port: number, timeoutMs = 3000): string {
  const js = `const s=require('net').connect(${port},'${host}');const t=setTimeout(()=>{console.log('ETIMEDOUT');process.exit(0)},${timeoutMs});` +
    `s.on('connect',()=>{console.log('open');s.destroy();clearTimeout(t)});s.on('error',e=>{console.log(e.code);clearTimeout(t)})`;
  return execFileSync('ip', ['netns', 'exec', ns, process.execPath, '-e', js], { encoding: 'utf8' }).trim();
}

/** Any TCP attempt (refused or not) makes the kernel resolve the address: an ARP entry. */
function touch(host: string, port: number): Promise<void> {
  return new Promise((resolve) => {
    const s = connect(port, host);
    const done = () => (s.destroy(), resolve());
    s.setTimeout(1000, done);
    s.on('connect', done).on('error', done);
  });
}

const namespaces = () => execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').map((l) => l.split(' ')[0]).filter((n) => n.startsWith(`${NS}-`));
const links = () => execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).split('\n').map((l) => l.split(': ')[1]?.split('@')[0]).filter((n) => n?.startsWith(`${NS}-`));

const isRoot = process.getuid?.() === 0;

describe.skipIf(!isRoot)(`cluster: netns backend${isRoot ? '' : ' (NEEDS ROOT: not run)'}`, { timeout: 240_000 }, () => {
  beforeAll(async () => {
    requireNetns();
    cluster = await up(opts);
  }, 240_000);

  afterAll(async () => {
    await down({ dir, log: () => {} }).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it('gives every host its own namespace, address and broker, and no default route', async () => {
    expect(namespaces().sort()).toEqual([`${NS}-1`, `${NS}-2`]);
    expect(cluster.file.backend).toBe('netns');
    expect(cluster.nodes.map((n) => [n.name, n.host, n.erlangNode])).toEqual([
      ['t1', '10.77.100.11', 'rabbit@10.77.100.11'],
      ['t2', '10.77.100.12', 'rabbit@10.77.100.12'],
    ]);
    for (const [i, n] of cluster.nodes.entries()) {
      const ns = `${NS}-${i + 1}`;
      expect(execFileSync('ip', ['-n', ns, 'route'], { encoding: 'utf8' })).not.toMatch(/default/);
      expect(execFileSync('ip', ['-n', ns, '-4', '-o', 'addr', 'show', 'eth0'], { encoding: 'utf8' })).toContain(`inet ${n.host}/24`);
      expect(await amqpLogin(n.amqpUrl)).toBe('ok');
      expect(await amqpLogin(withCredentials(n.amqpUrl, 'guest', 'guest'))).toMatch(/ACCESS_REFUSED|403/);
      expect(JSON.parse((await httpGet(`${n.managementUrl}/api/overview`, opsAdmin(dir).credentials)).body).node).toBe(n.erlangNode);
    }
  });

  it("lets hosts reach each other's AMQP port by their 10.77.100.x address", () => {
    expect(probeFrom(`${NS}-1`, '10.77.100.12', 5672)).toBe('open');
    expect(probeFrom(`${NS}-2`, '10.77.100.11', 5672)).toBe('open');
  });

  it('partition makes a host unreachable and heal restores it', async () => {
    await partition('t2', { dir });
    expect(probeFrom(`${NS}-1`, '10.77.100.12', 5672)).not.toBe('open');
    const s = await status({ dir });
    expect(s.nodes.map((n) => [n.node.name, n.state])).toEqual([
      ['t1', 'healthy'],
      ['t2', 'partitioned'],
    ]);

    await heal('t2', { dir });
    let result = '';
    for (let i = 0; i < 10 && result !== 'open'; i++) result = probeFrom(`${NS}-1`, '10.77.100.12', 5672, 1000);
    expect(result).toBe('open');
    expect((await status({ dir })).nodes.every((n) => n.healthy)).toBe(true);
  });

  it('ARP discovery finds the hosts running RabbitMQ with our credentials, and only those', async () => {
    // a third host on the same bridge that runs no broker
    const bare = `${NS}-bare`;
    const ipc = (...args: string[]) => execFileSync('ip', args, { encoding: 'utf8' });
    try {
      ipc('netns', 'add', bare);
      ipc('link', 'add', `${NS}-bh`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', bare);
      ipc('-n', bare, 'addr', 'add', '10.77.100.20/24', 'dev', 'eth0');
      ipc('link', 'set', `${NS}-bh`, 'master', `${NS}-br`, 'up');
      ipc('-n', bare, 'link', 'set', 'eth0', 'up');
      // fill this machine's ARP table the way any traffic would
      await Promise.all(['10.77.100.11', '10.77.100.12', '10.77.100.20'].map((host) => touch(host, 5672)));
      const found = await discoverHosts({
        thisAddress: '10.77.100.1',
        arp: true, arpSendsPasswordInCleartext: true,
        arpAccept: (ip) => ip.startsWith('10.77.100.'),
        probe: { user: 'peter', password: 'rabbit', timeoutMs: 3000 },
        cacheFile: join(dir, 'lan-cache.json'),
        refresh: true,
      });
      expect(found.sources.arp.sort()).toEqual(['10.77.100.11', '10.77.100.12']);
      expect(Object.keys(found.probeFailures)).toContain('10.77.100.20');
    } finally {
      spawnSync('ip', ['netns', 'del', bare]);
      spawnSync('ip', ['link', 'del', `${NS}-bh`]);
    }
  });

  it('down removes every namespace, link, bridge and process it made', async () => {
    const state = readState(dir)!;
    const pids = Object.values(state.nodes).flatMap((n) => [n.pid, n.wrapperPid, n.epmdPid]).filter((p): p is number => !!p);
    expect(pids).toHaveLength(6);
    expect(links()).toEqual(expect.arrayContaining([`${NS}-br`, `${NS}-1h`, `${NS}-2h`]));

    await cluster.stop();
    expect(pids.filter(isRunning)).toEqual([]);
    expect(namespaces()).toEqual([]);
    expect(links()).toEqual([]);
    expect(execFileSync('ip', ['-4', 'route'], { encoding: 'utf8' })).not.toContain('10.77.100.');
    expect((await status({ dir })).up).toBe(false);
  });
});
