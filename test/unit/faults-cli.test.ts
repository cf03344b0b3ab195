// The fault API and `mirosnet fault` without brokers: usage errors (exit 2), network faults
// on a local cluster (UnsupportedError, exit 2 with the reason), no cluster (exit 1).
// A local cluster is faked by its state.json: network faults refuse before touching a node.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ClusterError } from '../../ops/cluster/errors.ts';
import { UnsupportedError, bandwidth, heal, isolate, killBroker, killInstance, latency, partition, resetPeer, stall } from '../../ops/faults/index.ts';
import { PROXY_PORT, toxicRules } from '../../ops/faults/toxics.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(ROOT, 'ops/cli.ts');
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

const temps: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mirosnet-faults-'));
  temps.push(dir);
  return dir;
}
afterAll(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A dir whose state.json records a local cluster of two nodes (none running). */
function fakeLocal(): string {
  const dir = tempDir();
  const settings = { addressBase: '127.0.9.11', namePrefix: 'z', distPortBase: 25990, epmdPort: 4399, nsPrefix: 'mrz', erlArgs: '', nodes: 2 };
  writeFileSync(join(dir, 'state.json'), JSON.stringify({ backend: 'local', settings, nodes: { z1: {}, z2: {} } }));
  return dir;
}

function mirosnet(args: string[]) {
  const env = { ...process.env };
  delete env.MIROS_CLUSTER_DIR;
  const r = spawnSync(process.execPath, ['--import', TSX, CLI, ...args], { cwd: ROOT, env, encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('fault API without brokers', () => {
  it('partition, isolate and heal on a local cluster throw UnsupportedError (exit code 2) with the reason', async () => {
    const dir = fakeLocal();
    for (const p of [partition('z1', 'z2', { dir }), isolate('z1', { dir }), heal(undefined, undefined, { dir })]) {
      const err = await p.then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(UnsupportedError);
      expect(err).toBeInstanceOf(ClusterError);
      expect((err as UnsupportedError).exitCode).toBe(2);
      expect((err as Error).message).toMatch(/needs the netns or docker backend: local nodes share one network stack/);
    }
  });

  it('the toxics on a local cluster throw UnsupportedError (exit code 2): no namespace to steer connections in', async () => {
    const dir = fakeLocal();
    for (const p of [latency('z1', 200, 0, { dir }), bandwidth('z1', 100, { dir }), stall('z1', { dir }), resetPeer('z1', { dir })]) {
      const err = await p.then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(UnsupportedError);
      expect((err as Error).message).toMatch(/needs the netns or docker backend \(local nodes share this machine's network stack/);
    }
  });

  it('the nft rules steer new connections to the broker port into the proxy and reset the older ones, from the given sources only', () => {
    const all = toxicRules(5672, undefined);
    expect(all).toContain(`tcp dport 5672 redirect to :${PROXY_PORT}`);
    expect(all).toContain('iifname != "lo" tcp dport 5672 reject with tcp reset');
    const some = toxicRules(5671, ['10.77.0.12']);
    expect(some).toContain(`ip saddr { 10.77.0.12 } tcp dport 5671 redirect to :${PROXY_PORT}`);
    expect(some).toContain('iifname != "lo" ip saddr { 10.77.0.12 } tcp dport 5671 reject with tcp reset');
  });

  it('kill-instance without a running scenario says that instances live only while one runs', async () => {
    await expect(killInstance('chaos1-abc', { dir: fakeLocal() })).rejects.toThrow(/no running scenario in .* has an instance 'chaos1-abc'/);
  });

  it('a broker fault on a node that is not running fails with a ClusterError, an unknown node names the known ones', async () => {
    const dir = fakeLocal();
    await expect(killBroker('z2', { dir })).rejects.toThrow(/node z2 is not running/);
    await expect(killBroker('z7', { dir })).rejects.toThrow(/no node 'z7'/);
  });
});

describe('mirosnet fault', { timeout: 60_000 }, () => {
  it('an unknown kind is a usage error naming the choices', () => {
    const r = mirosnet(['fault', 'explode', 'n1']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/kill-broker, pause-broker/);
  });

  it('a wrong number of nodes is a usage error', () => {
    expect(mirosnet(['fault', 'partition', 'n1', '--dir', tempDir()])).toMatchObject({ status: 2, stderr: expect.stringMatching(/partition takes 2 nodes, got 1/) });
    expect(mirosnet(['fault', 'pause-broker', '--dir', tempDir()])).toMatchObject({ status: 2, stderr: expect.stringMatching(/pause-broker takes 1 node, got 0/) });
  });

  it('partition on a local cluster exits 2 with the reason', () => {
    const r = mirosnet(['fault', 'partition', 'z1', 'z2', '--dir', fakeLocal()]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/partition needs the netns or docker backend: local nodes share one network stack/);
  });

  it('latency on a local cluster exits 2 with the reason; loss is no kind; a delay that is not a number is a usage error', () => {
    const dir = fakeLocal();
    expect(mirosnet(['fault', 'latency', 'z1', '200', '--dir', dir])).toMatchObject({ status: 2, stderr: expect.stringMatching(/latency needs the netns or docker backend/) });
    expect(mirosnet(['fault', 'loss', 'z1', '5', '--dir', dir])).toMatchObject({ status: 2, stderr: expect.stringMatching(/unknown fault kind 'loss'/) });
    expect(mirosnet(['fault', 'latency', 'z1', 'soon', '--dir', dir])).toMatchObject({ status: 2, stderr: expect.stringMatching(/the delay \(ms\) must be a number, got soon/) });
    expect(mirosnet(['fault', 'latency', 'z1', '--dir', dir])).toMatchObject({ status: 2, stderr: expect.stringMatching(/latency takes 2 to 3 nodes, got 1/) });
  });

  it('a fault where no cluster is up fails (exit 1)', () => {
    const r = mirosnet(['fault', 'kill-broker', 'n1', '--dir', tempDir()]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/no cluster is up in .*\n→ start one: mirosnet cluster up/);
  });
});
