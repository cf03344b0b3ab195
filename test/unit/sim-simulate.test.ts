// simulate(program, { seed }) runs the relay example (examples/relay/program.ts): three real
// NetworkedActiveObjects, each in a simulated process, to completion; one seed gives one hash.
import { describe, expect, it } from 'vitest';
import { relayProgram, program as relay } from '../../examples/relay/program.ts';
import { deliveryDigest } from '../../runtime/sim/program.ts';
import { canonicalJson, simulate } from '../../runtime/sim/simulate.ts';

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
