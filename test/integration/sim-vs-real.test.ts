// Sim and real agree (issue 24, item 8): the relay example (examples/relay) runs on three real
// brokers (netns backend, an isolated cluster of namespaces mrs-1..3 on 10.77.106.0/24, no
// faults; one instance process per chart, the compiled module dist/examples/relay/program.js)
// and in simulation (simulate(relay, { seed })); each chart's set of delivered events and each
// sender's order at each chart are equal. As a non-root user the suite is skipped (NEEDS ROOT).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { program as relay } from '../../examples/relay/program.ts';
import { down, up } from '../../ops/cluster/index.ts';
import { testbed } from '../../ops/scenario/testbed.ts';
import { runProgramOnTestbed } from '../../ops/sim/testbed-run.ts';
import { deliveryDigest } from '../../runtime/sim/program.ts';
import { simulate } from '../../ops/sim/simulate.ts';
import { isolatedOptions } from './cluster-helpers.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const MODULE = join(ROOT, 'dist/examples/relay/program.js');
const opts = isolatedOptions({ backend: 'netns', nodes: 3, nsPrefix: 'mrs', namePrefix: 'sr', addressBase: '10.77.106.11' });
const logsRoot = mkdtempSync(join(tmpdir(), 'miros-sim-vs-real-'));
const isRoot = process.getuid?.() === 0;

describe.skipIf(!isRoot)(`sim and real agree: the relay example${isRoot ? '' : ' (NEEDS ROOT: not run)'}`, { timeout: 180_000 }, () => {
  beforeAll(async () => {
    await up(opts);
  }, 240_000);

  afterAll(async () => {
    await down({ dir: opts.dir!, log: () => {} });
    rmSync(opts.dir!, { recursive: true, force: true });
    rmSync(logsRoot, { recursive: true, force: true });
  }, 120_000);

  it('per-chart delivered sets and per-sender orders are equal on real brokers and in simulation', async () => {
    const lines: string[] = [];
    const t = await testbed('relay', { dir: opts.dir, backend: 'netns', nodes: 3, logsRoot, log: (l) => lines.push(l) });
    const real = await runProgramOnTestbed(t, relay, MODULE);
    const result = await t.result();
    expect(real.problems).toEqual([]);
    expect(result.checks.filter((c) => !c.pass), lines.join('\n')).toEqual([]);
    expect(result.pass).toBe(true);

    const sim = await simulate(relay, { seed: 1, out: join(logsRoot, 'sim') });
    expect(sim.problems).toEqual([]);
    const [realDigest, simDigest] = [deliveryDigest(real.delivered), deliveryDigest(sim.delivered)];
    expect(Object.keys(realDigest.sets)).toEqual(['auditor', 'pinger', 'ponger']);
    expect(realDigest.sets.auditor).toHaveLength(30); // not empty: 10 PINGs, 10 PONGs, 10 REPORTs
    expect(simDigest.sets).toEqual(realDigest.sets);
    expect(simDigest.orders).toEqual(realDigest.orders);
    // and the programs' own reports agree: what each chart said of each kind, in order (how the
    // kinds interleave, PINGED against PONGED, depends on the timing and may differ)
    const byTag = (reports: typeof sim.reports) =>
      Object.fromEntries(Object.entries(reports).flatMap(([chart, rs]) => [...new Set(rs.map((r) => r.tag))].map((tag) => [`${chart} ${tag}`, rs.filter((r) => r.tag === tag).map((r) => r.data)])));
    expect(byTag(sim.reports)).toEqual(byTag(real.reports));
  });
});
