// Faults triggered by state (runtime/sim/triggers.ts): written against the program's own chart
// and state names, injected when the chart settles in that state, through the same injector as
// the seeded plan; deterministic, and checked like any other run.
import { describe, expect, it } from 'vitest';
import { relayProgram } from '../../examples/relay/program.ts';
import { simulate } from '../../runtime/sim/simulate.ts';
import { checkSimRun } from '../../ops/sim/check.ts';
import type { FaultTrigger } from '../../runtime/sim/triggers.ts';

const relay = relayProgram({ pings: 10 });

describe('faults triggered by state', () => {
  it('crashes the auditor\'s broker when the auditor enters quiet, and the pinger\'s partition when the pinger enters finished; nothing is lost', async () => {
    const triggers: FaultTrigger[] = [
      { when: { chart: 'auditor', enters: 'quiet' }, fault: { kind: 'broker-crash', host: 2, durationMs: 1500 } },
      { when: { chart: 'pinger', enters: 'finished' }, fault: { kind: 'partition', chart: 'pinger', host: 1, durationMs: 800 }, afterMs: 50 },
    ];
    const r = await simulate(relay, { seed: 11, faults: { kinds: [], triggers } });
    const fired = r.faults!.records;
    expect(fired.map((f) => [f.kind, f.trigger])).toEqual([
      ['broker-crash', 'auditor entered quiet'],
      ['partition', 'pinger entered finished'],
    ]);
    for (const f of fired) expect(f.healedAt! - f.startedAt).toBe(f.durationMs);
    // the auditor entered quiet once its REPORTs were in: after the pinger's last PING went out
    const lastPing = r.records.filter((x) => x.kind === 'mesh-send' && x.sender === 'pinger').at(-1)!;
    expect(fired[0]!.startedAt).toBeGreaterThan(lastPing.rx - 1_700_000_000_000);
    expect(checkSimRun(r).problems).toEqual([]);
    const again = await simulate(relay, { seed: 11, faults: { kinds: [], triggers } });
    expect(again.hash).toBe(r.hash);
  }, 60_000);

  it('fires `times` times at most, and never on the state a chart is in when the workload starts', async () => {
    const triggers: FaultTrigger[] = [
      { when: { chart: 'ponger', enters: 'answering' }, fault: { kind: 'latency', chart: 'ponger', amount: 20, durationMs: 200 } }, // ponger never leaves answering
      { when: { chart: 'pinger', enters: 'pinging' }, fault: { kind: 'clock-step', chart: 'pinger', amount: 300, durationMs: 100 }, times: 3 },
    ];
    const r = await simulate(relay, { seed: 12, faults: { kinds: [], triggers } });
    expect(r.faults!.records.map((f) => f.trigger)).toEqual(['pinger entered pinging']); // it enters pinging once
  }, 60_000);

  it('a trigger naming what the program does not have is a clear error', async () => {
    const bad = (t: FaultTrigger) => simulate(relay, { seed: 1, faults: { kinds: [], triggers: [t] } });
    await expect(bad({ when: { chart: 'nobody', enters: 'x' }, fault: { kind: 'kill', chart: 'pinger', durationMs: 10 } })).rejects.toThrow(/no chart "nobody" \(the charts: pinger, ponger, auditor\)/);
    await expect(bad({ when: { chart: 'pinger', enters: 'pinging' }, fault: { kind: 'kill', durationMs: 10 } })).rejects.toThrow(/fault.chart: kill needs one of the charts/);
    await expect(bad({ when: { chart: 'pinger', enters: 'pinging' }, fault: { kind: 'broker-crash', host: 3, durationMs: 10 } })).rejects.toThrow(/host index below 3/);
    await expect(bad({ when: { chart: 'pinger', enters: 'pinging' }, fault: { kind: 'explode' as 'kill', chart: 'pinger', durationMs: 10 } })).rejects.toThrow(/"explode" is not a fault kind/);
  });
});
