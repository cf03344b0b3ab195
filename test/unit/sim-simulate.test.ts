// simulate(program, { seed }) runs the relay example (examples/relay/program.ts): three real
// NetworkedActiveObjects, each in a simulated process, to completion; one seed gives one hash.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { relayProgram, program as relay } from '../../examples/relay/program.ts';
import { deliveryDigest, validateProgram } from '../../runtime/sim/program.ts';
import { simulate } from '../../ops/sim/simulate.ts';
import { canonicalJson } from '../../runtime/sim/simulate.ts';
import { SIM_EPOCH_MS } from '../../runtime/sim/world.ts';

describe('simulate(): the relay example', () => {
  it('runs to completion: the invariant holds, every chart got each sender\'s events once each and in order', async () => {
    const real = performance.now();
    const r = await simulate(relay, { seed: 1 });
    expect(r.problems).toEqual([]);
    expect(r.pass).toBe(true);
    expect(r.node).toBe(process.version);
    expect(r.hash).toMatch(/^[0-9a-f]{64}$/);
    const { sets, orders } = deliveryDigest(r.delivered);
    // 10 PINGs and the FIN-less relay: pinger sent 10, ponger 20 (PONG + REPORT), auditor 1
    expect(sets.ponger).toHaveLength(10 + 1);
    expect(sets.auditor).toHaveLength(10 + 20);
    expect(sets.pinger).toHaveLength(20 + 1);
    expect(orders['pinger<-ponger']).toEqual(Array.from({ length: 20 }, (_, i) => `${i + 1} ${i % 2 === 0 ? 'PONG' : 'REPORT'}`));
    expect(r.reports.pinger!.at(-1)).toEqual({ tag: 'FINISHED', data: { sent: 10, pongs: 10 } });
    // the timed events ran on the virtual clock: 10 TICKs 50 ms apart and the auditor's 100 ms quiet period
    expect(r.virtualMs).toBeGreaterThan(10 * 50 + 100);
    expect(r.records.some((x) => x.kind === 'trace' && x.signal === 'QUIET')).toBe(true);
    for (const name of ['pinger', 'ponger', 'auditor']) expect(r.stats[name]!.mesh.duplicates).toBe(0);
    console.log(`relay: ${r.records.length} records, ${r.virtualMs} virtual ms in ${(performance.now() - real).toFixed(0)} real ms, hash ${r.hash.slice(0, 12)}`);
  });

  it('one seed, one hash: twice in one process equal; another seed another hash', async () => {
    const a = await simulate(relay, { seed: 7 });
    const b = await simulate(relay, { seed: 7 });
    expect(b.hash).toBe(a.hash);
    expect(canonicalJson(b.records)).toBe(canonicalJson(a.records));
    const c = await simulate(relay, { seed: 8 });
    expect(c.hash).not.toBe(a.hash);
  });

  it('a broken invariant fails the run and says why', async () => {
    const broken = { ...relayProgram({ pings: 3 }), invariant: () => ['always wrong'] };
    const r = await simulate(broken, { seed: 1 });
    expect(r.pass).toBe(false);
    expect(r.problems).toEqual(['always wrong']);
  });

  it('a program that never finishes fails with a timeout in virtual time', async () => {
    const never = { ...relayProgram({ pings: 2 }), done: () => false, timeoutMs: 2000 };
    const r = await simulate(never, { seed: 1 });
    expect(r.pass).toBe(false);
    expect(r.problems[0]).toMatch(/program relay done: not within 2000 virtual ms/);
  });
});

describe('simulate(): the evidence of a run', () => {
  it('writes what a real run leaves (distributed.log and .jsonl, <chart>.jsonl, run.html, summary.json with the hash); mirosnet log check passes on it', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'sim-evidence-')), 'run');
    try {
      const r = await simulate(relay, { seed: 3, out });
      expect(r.problems).toEqual([]);
      expect(r.logCheck).toEqual({ ok: true, problems: [] });
      for (const f of ['distributed.log', 'distributed.jsonl', 'pinger.jsonl', 'ponger.jsonl', 'auditor.jsonl', 'run.html', 'summary.json']) expect(existsSync(join(out, f)), f).toBe(true);
      const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
      expect(summary).toMatchObject({ name: 'relay', pass: true, backend: 'sim', nodes: 3, simulation: { seed: 3, node: process.version, hash: r.hash, virtualMs: r.virtualMs } });
      expect(summary.checks.map((c: { pass: boolean }) => c.pass)).toEqual([true, true, true]); // the invariant, the delivery check, the log check
      // virtual time: every record stamped within the run's virtual span
      const records = readFileSync(join(out, 'distributed.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { ts: number; rx: number });
      expect(records).toHaveLength(r.records.length);
      for (const x of records) {
        expect(x.ts).toBeGreaterThanOrEqual(SIM_EPOCH_MS);
        expect(x.rx).toBeLessThanOrEqual(SIM_EPOCH_MS + r.virtualMs);
      }
      expect(readFileSync(join(out, 'distributed.log'), 'utf8')).toMatch(/\[auditor\] e->QUIET\(\) quiet->done/);
      // the CLI, as a user runs it on a real run's directory
      const cli = spawnSync(process.execPath, [join(import.meta.dirname, '../../bin/mirosnet.mjs'), 'log', 'check', out], { encoding: 'utf8' });
      expect(cli.stderr + cli.stdout).not.toMatch(/FAIL|problem/i);
      expect(cli.status).toBe(0);
      // a second run into the same directory would mix two runs' files: refused
      await expect(simulate(relay, { seed: 3, out })).rejects.toThrow(/already holds a run/);
    } finally {
      rmSync(dirname(out), { recursive: true, force: true });
    }
  });
});

describe('a program module: its shape is checked with a clear error', () => {
  it.each([
    ['not an object', null, /not an object/],
    ['no charts', { ...relay, charts: [] }, /charts must be a non-empty array/],
    ['a chart on a broker it does not have', { ...relay, charts: [{ ...relay.charts[0]!, host: 3 }] }, /chart pinger: host must be an index below hosts \(3\)/],
    ['two charts of one name', { ...relay, charts: [relay.charts[0]!, relay.charts[0]!] }, /chart pinger is defined twice/],
    ['no invariant', { ...relay, invariant: undefined }, /invariant must be a function/],
  ])('%s', async (_label, value, message) => {
    expect(() => validateProgram(value, 'my-program.js')).toThrow(message);
    expect(() => validateProgram(value, 'my-program.js')).toThrow(/^my-program\.js: .*docs\/simulation\.md/);
    await expect(simulate(value as never, { seed: 1 })).rejects.toThrow(message);
  });

  it('a workload that names a chart the program lacks is an error naming it', async () => {
    await expect(simulate({ ...relay, workload: (ctx) => ctx.post('pinnger', 'GO') }, { seed: 1 })).rejects.toThrow(/the workload names chart "pinnger", which it does not have/);
  });
});
