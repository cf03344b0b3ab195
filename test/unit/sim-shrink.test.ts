// `mirosnet sim --seed N --shrink` (ops/sim/shrink.ts): delta debugging over a failing seed's
// fault list; the shrunk list replays (simulate's faults.schedule) and still fails.
import { describe, expect, it } from 'vitest';
import { relayBench } from '../../examples/relay/program.ts';
import { simulate } from '../../runtime/sim/simulate.ts';
import { checkSimRun } from '../../ops/sim/check.ts';
import { formatShrink, parseSchedule, shrinkSeed } from '../../ops/sim/shrink.ts';

describe('shrink', () => {
  it('seed 168 of the relay bench with no-incarnations: 20 faults shrink to a few, which replay and still fail', async () => {
    const r = await shrinkSeed(relayBench, { seed: 168, faults: 'all', regressions: ['no-incarnations'] });
    expect(r.failing).toBe(true);
    expect(r.original).toBe(20);
    expect(r.faults.length).toBeGreaterThan(0);
    expect(r.faults.length).toBeLessThanOrEqual(3);
    expect(r.faults.map((f) => f.kind)).toContain('clock-step');
    expect(r.replay).toContain('--regress no-incarnations');
    expect(r.replay).toContain(`--schedule '${JSON.stringify(r.faults)}'`);
    expect(formatShrink(r)).toMatch(/^seed 168: 20 faults shrunk to \d/);
    // the printed schedule replays: it still fails with the switch, and passes without
    const schedule = parseSchedule(JSON.stringify(r.faults));
    const again = await simulate(relayBench, { seed: 168, faults: { kinds: 'all', schedule }, regressions: ['no-incarnations'] });
    expect(checkSimRun(again).ok).toBe(false);
    const off = await simulate(relayBench, { seed: 168, faults: { kinds: 'all', schedule } });
    expect(checkSimRun(off).problems).toEqual([]);
  }, 180_000);

  it('a seed that passes has nothing to shrink', async () => {
    const r = await shrinkSeed(relayBench, { seed: 242, faults: 'all' });
    expect(r.failing).toBe(false);
    expect(r.runs).toBe(1);
  }, 60_000);

  it('a schedule is checked field by field, with the fault named', () => {
    expect(parseSchedule('[{"at":1,"kind":"kill","chart":"a","durationMs":5}]')).toEqual([{ at: 1, kind: 'kill', chart: 'a', durationMs: 5 }]);
    expect(() => parseSchedule('{}')).toThrow(/JSON list/);
    expect(() => parseSchedule('[{"at":1,"kind":"nap","durationMs":5}]')).toThrow(/fault 0: unknown kind "nap"/);
    expect(() => parseSchedule('[{"at":-1,"kind":"kill","durationMs":5}]')).toThrow(/fault 0: at/);
  });
});
