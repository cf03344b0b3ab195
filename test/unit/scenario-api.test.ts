// The scenario API's pure parts on a fake run (no broker, no processes): waits re-check on the
// run's change events (no polling), time out naming what they waited for, and the checks.
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { Testbed } from '../../ops/scenario/api.ts';
import type { Run } from '../../ops/scenario/runner.ts';

function fakeRun(): Run {
  return { dir: '/nonexistent', changes: new EventEmitter(), cluster: { nodes: [{ name: 'n1' }, { name: 'n2' }] }, instances: [], distributed: [], log: () => {} } as unknown as Run;
}

describe('Testbed waits', () => {
  it('waitFor re-checks the condition on each change of the run, not on a timer', async () => {
    const run = fakeRun();
    const t = new Testbed(run);
    let value = 0;
    let checked = 0;
    const waiting = t.waitFor('value 3', () => (checked++, value === 3), 60_000);
    for (value = 1; value <= 3; value++) {
      run.changes.emit('change');
      if (value === 3) break;
    }
    await waiting;
    expect(checked).toBe(4); // once at once, then once per change: 1, 2, 3
    expect(run.changes.listenerCount('change')).toBe(0); // it stopped listening
  });

  it('waitFor throws after its timeout, naming what it waited for', async () => {
    const run = fakeRun();
    await expect(new Testbed(run).waitFor('the PONG', () => false, 30)).rejects.toThrow('timed out after 30 ms waiting for the PONG');
    expect(run.changes.listenerCount('change')).toBe(0);
  });

  it('a condition that throws rejects the wait with its error', async () => {
    const run = fakeRun();
    const waiting = new Testbed(run).waitFor('x', () => {
      if (run.distributed.length) throw new Error('bad condition');
      return false;
    });
    run.distributed.push('a line');
    run.changes.emit('change');
    await expect(waiting).rejects.toThrow('bad condition');
  });

  it('outcome on a timeout adds the failing check "outcome within the timeout" and resolves false', async () => {
    const t = new Testbed(fakeRun());
    expect(await t.outcome('the last hop', () => false, 20)).toBe(false);
    expect(t.checks).toEqual([{ name: 'outcome within the timeout', pass: false, reasons: ['timed out waiting for the last hop'] }]);
  });

  it('outcome re-checks when alsoWhen settles (a step that ends without an instance line)', async () => {
    const t = new Testbed(fakeRun());
    let finished = false;
    const step = new Promise<void>((r) => setTimeout(() => ((finished = true), r()), 10));
    expect(await t.outcome('the step', () => finished, 60_000, step)).toBe(true);
    expect(t.checks).toEqual([]);
  });
});

describe('Testbed checks', () => {
  it('takes problems, a boolean, a function, or a CheckResult; a throwing function fails with the error', () => {
    const t = new Testbed(fakeRun());
    t.check('none', []);
    t.check('two', ['a', 'b']);
    t.check('yes', true);
    t.check('no', false);
    t.check('lazy', () => ['late']);
    t.check('throws', () => {
      throw new Error('boom');
    });
    t.check({ name: 'given', pass: true, reasons: [] });
    expect(t.checks.map((c) => [c.name, c.pass])).toEqual([
      ['none', true],
      ['two', false],
      ['yes', true],
      ['no', false],
      ['lazy', false],
      ['throws', false],
      ['given', true],
    ]);
    expect(t.checks[3].reasons).toEqual(['did not hold']);
    expect(t.checks[5].reasons[0]).toMatch(/^the check threw: Error: boom/);
  });
});
