// How to test your own program in simulation from your vitest suite: simulate(program, { seeds,
// faults }) runs each seed in a simulated world (no brokers, virtual time), with faults chosen by
// the seed, and checks every run: no confirmed event lost, none handled twice by one incarnation
// of a chart, each sender's order kept, everything delivered after the last heal, and your
// program's own done() and invariant(). A failing seed comes back with the options that replay
// it: simulate(program, { ...failure.replay, out: 'sim-evidence' }) writes its evidence
// (distributed.log, run.html, summary.json) for `mirosnet log check`.
//
// In your project the imports are 'miros-rabbitmq/sim' and your own program module; here they
// point into this repository. Run it with `npx vitest run examples/relay-simulation.test.ts`.
import { describe, expect, it } from 'vitest';
import { simulate } from '../ops/sim/index.ts';
import { relayProgram } from './relay/program.ts';

describe('the relay under simulated faults', () => {
  it('loses nothing, duplicates nothing and keeps order over 20 seeds with every fault kind', async () => {
    const result = await simulate(relayProgram({ pings: 10 }), { seeds: '0..19', faults: { kinds: 'all', count: 10, spanMs: 5000 } });
    // on failure, the seeds and their problems are in the message
    expect(result.failures.map((f) => `seed ${f.seed}: ${f.problems.join('; ')}`)).toEqual([]);
    expect(result.runs).toBe(20);
  }, 120_000);

  it('the same seed replays to the same run (hash)', async () => {
    const program = relayProgram({ pings: 5 });
    const faults = { kinds: ['partition', 'kill', 'broker-crash'] as const, count: 5, spanMs: 3000 };
    const a = await simulate(program, { seed: 7, faults });
    const b = await simulate(program, { seed: 7, faults });
    expect(b.hash).toBe(a.hash);
  }, 60_000);

  it('finds a broken program: an invariant that cannot hold fails every seed, each with its replay', async () => {
    const broken = { ...relayProgram({ pings: 3 }), invariant: () => ['the auditor must count 4 REPORTs (it gets 3)'] };
    const result = await simulate(broken, { seeds: [1, 2] });
    expect(result.failed).toBe(2);
    expect(result.failures[0]!.problems).toContain('the auditor must count 4 REPORTs (it gets 3)');
    expect(result.failures[0]!.replay).toEqual({ seed: 1 });
  }, 60_000);
});
