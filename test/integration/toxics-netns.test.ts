// Toxics on real hosts (netns backend, root): a cluster of 2 namespaces (hosts tx1, tx2 in
// mrx-1..2 on 10.77.103.0/24, a temp dir; MIROS_TOXICS_TEST_NS / _SUBNET move it). The probe
// is the round trip of a publish and its confirm on a real AMQP connection, from this
// machine (the bridge's .1) and from inside tx1: latency(tx2, 200) adds ~200 ms to every
// round trip with tx2 and none elsewhere, the proxies outlive the call (PIDs in
// toxics.json), heal(tx2) stops them and the round trip is back. As a non-root user the
// suite is skipped (NEEDS ROOT).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { down, up } from '../../ops/cluster/index.ts';
import { isRunning } from '../../ops/cluster/process.ts';
import { activeToxic, heal, latency, resetPeer, stall } from '../../ops/faults/index.ts';
import { isolatedOptions } from './cluster-helpers.ts';

const NS = process.env.MIROS_TOXICS_TEST_NS ?? 'mrx';
const SUBNET = process.env.MIROS_TOXICS_TEST_SUBNET ?? '10.77.103';
const opts = isolatedOptions({ backend: 'netns', nodes: 2, nsPrefix: NS, namePrefix: 'tx', addressBase: `${SUBNET}.11` });
const dir = opts.dir!;
const host = (i: number) => `${SUBNET}.${10 + i}`;
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Connects (amqplib, the cluster's credentials), then times `n` publishes each awaited to its
 * confirm; from this machine, or from inside host `from`'s namespace. Returns the median ms.
 */
function confirmRtt(to: number, from?: number, n = 7): { connected: boolean; medianMs: number; error?: string } {
  const js = `const amqp=require('amqplib');(async()=>{const c=await amqp.connect({protocol:'amqp',hostname:'${host(to)}',port:5672,username:'peter',password:'rabbit',vhost:'/'},{timeout:4000});` +
    `const ch=await c.createConfirmChannel();await ch.assertExchange('miros.rtt.probe','topic',{durable:false});const r=[];for(let i=0;i<${n};i++){const t=Date.now();await new Promise((y,f)=>ch.publish('miros.rtt.probe','rtt.probe',Buffer.from('x'),{},(e)=>e?f(e):y()));r.push(Date.now()-t)}` +
    `r.sort((a,b)=>a-b);console.log(JSON.stringify({connected:true,medianMs:r[${Math.floor(n / 2)}]}));await c.close()})().catch(e=>{console.log(JSON.stringify({connected:false,medianMs:-1,error:e.message}))})`;
  const argv = [process.execPath, '-e', js];
  const cmd = from === undefined ? argv : ['ip', 'netns', 'exec', `${NS}-${from}`, ...argv];
  const out = execFileSync(cmd[0], cmd.slice(1), { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
  return JSON.parse(out.trim().split('\n').at(-1)!) as { connected: boolean; medianMs: number; error?: string };
}

const isRoot = process.getuid?.() === 0;

describe.skipIf(!isRoot)(`toxics: netns backend${isRoot ? '' : ' (NEEDS ROOT: not run)'}`, { timeout: 120_000 }, () => {
  beforeAll(async () => {
    const probe = spawnSync('nft', ['--version'], { encoding: 'utf8' });
    if (probe.error || probe.status !== 0) throw new Error(`NETNS TOXIC TESTS CANNOT RUN: nft is missing (apt-get install nftables): ${probe.error?.message ?? probe.stderr}`);
    if (!existsSync(join(ROOT, 'dist/ops/faults/proxy-main.js'))) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' }); // the proxy runs compiled
    await up(opts);
  }, 240_000);

  afterAll(async () => {
    await heal(undefined, undefined, { dir }).catch(() => undefined);
    await down({ dir, log: () => {} });
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it('latency(tx2, 200) adds ~200 ms to a publish/confirm round trip with tx2 only; heal(tx2) stops the proxies and takes it away', async () => {
    const before = confirmRtt(2);
    expect(before).toMatchObject({ connected: true });
    expect(before.medianMs).toBeLessThan(100);

    const rec = await latency('tx2', 200, 0, { dir });
    expect(rec).toMatchObject({ kind: 'latency', target: ['tx2'], backend: 'netns', undo: { kind: 'heal', target: ['tx2'] } });
    const state = activeToxic(dir)!;
    expect(state.proxies).toHaveLength(2);
    for (const p of state.proxies) expect(isRunning(p.pid)).toBe(true); // outlived the call that started them

    const machineToTx2 = confirmRtt(2);
    const tx1ToTx2 = confirmRtt(2, 1);
    const tx2ToTx1 = confirmRtt(1, 2);
    const tx1Local = confirmRtt(1, 1);
    for (const r of [machineToTx2, tx1ToTx2, tx2ToTx1]) {
      expect(r.connected).toBe(true);
      expect(r.medianMs).toBeGreaterThanOrEqual(190);
      expect(r.medianMs).toBeLessThan(200 + 150 + before.medianMs);
    }
    expect(tx1Local.medianMs).toBeLessThan(100); // not a path with tx2

    expect((await heal('tx2', undefined, { dir })).detail).toMatch(/latency of tx2 removed .*proxies \d+, \d+ stopped/);
    expect(activeToxic(dir)).toBeUndefined();
    for (const p of state.proxies) expect(isRunning(p.pid)).toBe(false);
    const after = confirmRtt(2);
    expect(after.connected).toBe(true);
    expect(after.medianMs).toBeLessThan(100);
  });

  it('stall holds the connection with nothing moving; reset-peer refuses every connection', async () => {
    await stall('tx2', { dir });
    const stalled = confirmRtt(2);
    expect(stalled.connected).toBe(false);
    expect(stalled.error).toMatch(/ETIMEDOUT/); // the TCP connect succeeded (to the proxy), the handshake never came
    await heal('tx2', undefined, { dir });

    await resetPeer('tx2', { dir });
    const reset = confirmRtt(2);
    expect(reset.connected).toBe(false);
    expect(reset.error).toMatch(/ECONNRESET|socket hang up|closed/i);
    expect(readFileSync(join(dir, 'toxics.json'), 'utf8')).toMatch(/"kind": "reset-peer"/);
    await heal(undefined, undefined, { dir });
    expect(confirmRtt(2).connected).toBe(true);

  });
});
