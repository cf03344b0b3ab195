// Toxics on docker hosts (a real engine, root): the same proxy and nftables steering as on
// netns, inside the containers' network namespaces. A cluster of 2 containers on a network of
// its own (10.78.9.0/24, apart from ci-docker.sh's cluster and the TLS test). The probe is the
// round trip of a publish and its confirm on a real AMQP connection from this machine:
// latency(n2, 200) adds ~200 ms on the path to n2 and none on the path to n1; heal(n2) stops
// the proxies and takes it away; reset-peer refuses every connection until healed.
import { connect } from 'amqplib';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { down, up } from '../../ops/cluster/index.ts';
import { isRunning } from '../../ops/cluster/process.ts';
import { activeToxic, heal, latency, resetPeer } from '../../ops/faults/index.ts';

const engine = spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], { encoding: 'utf8', timeout: 10_000 }).status === 0;
const root = process.getuid?.() === 0;
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'miros-docker-toxics-'));
const opts = { dir, backend: 'docker' as const, nodes: 2, nsPrefix: 'mrq', addressBase: '10.78.9.11', log: () => {} };
const host = (i: number) => `10.78.9.${10 + i}`;

/** Median ms of `n` publishes each awaited to its confirm, on a fresh connection to node i; or the connect error. */
async function confirmRtt(i: number, n = 7): Promise<{ connected: boolean; medianMs: number; error?: string }> {
  let c;
  try {
    c = await connect({ protocol: 'amqp', hostname: host(i), port: 5672, username: 'peter', password: 'rabbit', vhost: '/' }, { timeout: 4000 });
  } catch (err) {
    return { connected: false, medianMs: -1, error: (err as Error).message };
  }
  c.on('error', () => undefined);
  try {
    const ch = await c.createConfirmChannel();
    await ch.assertExchange('miros.rtt.probe', 'topic', { durable: false }); // the app user may use miros.* names only
    const rtts: number[] = [];
    for (let k = 0; k < n; k++) {
      const t = Date.now();
      await new Promise<void>((resolve, reject) => ch.publish('miros.rtt.probe', 'rtt.probe', Buffer.from('x'), {}, (e) => (e ? reject(e) : resolve())));
      rtts.push(Date.now() - t);
    }
    rtts.sort((a, b) => a - b);
    return { connected: true, medianMs: rtts[Math.floor(n / 2)] };
  } finally {
    await c.close().catch(() => undefined);
  }
}

describe.skipIf(!engine || !root)(`toxics: docker backend${engine && root ? '' : ' (NEEDS ROOT AND A DOCKER ENGINE: not run; scripts/ci-docker.sh runs it)'}`, () => {
  beforeAll(async () => {
    const nft = spawnSync('nft', ['--version'], { encoding: 'utf8' });
    if (nft.error || nft.status !== 0) throw new Error(`DOCKER TOXIC TESTS CANNOT RUN: nft is missing (apt-get install nftables): ${nft.error?.message ?? nft.stderr}`);
    if (!existsSync(join(ROOT, 'dist/ops/faults/proxy-main.js'))) spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' }); // the proxy runs compiled
    await up(opts);
  });

  afterAll(async () => {
    await heal(undefined, undefined, { dir }).catch(() => undefined);
    await down({ dir, log: () => {} }).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  test('latency(n2, 200) adds ~200 ms to the round trip with n2 only; heal(n2) stops the proxies and takes it away', async () => {
    const before = await confirmRtt(2);
    expect(before).toMatchObject({ connected: true });
    expect(before.medianMs).toBeLessThan(100);

    const rec = await latency(2, 200, 0, { dir });
    expect(rec).toMatchObject({ kind: 'latency', backend: 'docker', undo: { kind: 'heal' } });
    const state = activeToxic(dir)!;
    expect(state.proxies).toHaveLength(2);
    for (const p of state.proxies) expect(isRunning(p.pid)).toBe(true);

    const toN2 = await confirmRtt(2);
    expect(toN2.connected).toBe(true);
    expect(toN2.medianMs).toBeGreaterThanOrEqual(190);
    expect(toN2.medianMs).toBeLessThan(200 + 150 + before.medianMs);
    expect((await confirmRtt(1)).medianMs).toBeLessThan(100); // not a path with n2

    expect((await heal(2, undefined, { dir })).detail).toMatch(/latency of \S+ removed/);
    expect(activeToxic(dir)).toBeUndefined();
    for (const p of state.proxies) expect(isRunning(p.pid)).toBe(false);
    const after = await confirmRtt(2);
    expect(after.connected).toBe(true);
    expect(after.medianMs).toBeLessThan(100);
  });

  test('reset-peer refuses every connection to n2 until healed', async () => {
    await resetPeer(2, { dir });
    const reset = await confirmRtt(2);
    expect(reset.connected).toBe(false);
    expect(reset.error).toMatch(/ECONNRESET|socket hang up|closed/i);
    await heal(undefined, undefined, { dir });
    expect((await confirmRtt(2)).connected).toBe(true);
  });
});
