import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createActor } from 'xstate';
import { describe, expect, it } from 'vitest';
import { Event, stripped } from '../../runtime/hsm/index.ts';
import { COMPREHENSIVE_EVENTS, benchEngine, comprehensiveChart, comprehensiveMachine, leafOf } from '../../bench/engine.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const expectedFile = path.join(repoRoot, 'test', 'fixtures', 'conformance', 'expected', 'comprehensive.json');

interface Expected {
  start: { spy: string[]; trace: string[]; state: string };
  steps: Array<{ event: string; spy: string[]; trace: string[]; state: string }>;
}

describe('bench chart: the hand-written comprehensive chart', () => {
  it('produces the spy and trace of expected/comprehensive.json', () => {
    expect(existsSync(expectedFile), `missing ${expectedFile}`).toBe(true);
    const expected = JSON.parse(readFileSync(expectedFile, 'utf8')) as Expected;
    const chart = comprehensiveChart(true);
    chart.completeCircuit();
    const snap = () => {
      const out = { spy: chart.spy(), trace: stripped(chart.trace() as string), state: chart.currentState() };
      chart.clearSpy();
      chart.clearTrace();
      return out;
    };
    expect(snap()).toEqual({ spy: expected.start.spy, trace: expected.start.trace, state: expected.start.state });
    expect(expected.steps.map((s) => s.event)).toEqual(COMPREHENSIVE_EVENTS);
    for (const step of expected.steps) {
      chart.postFifo(new Event(step.event));
      chart.completeCircuit();
      expect(snap(), `after ${step.event}`).toEqual({ spy: step.spy, trace: step.trace, state: step.state });
    }
  });

  it('the XState version settles in the same states for the same events', () => {
    const chart = comprehensiveChart(false);
    const actor = createActor(comprehensiveMachine().machine).start();
    const ours: string[] = [chart.currentState()];
    const theirs: string[] = [leafOf(actor.getSnapshot().value)];
    for (let round = 0; round < 3; round++) {
      for (const sig of COMPREHENSIVE_EVENTS) {
        chart.dispatch(new Event(sig));
        actor.send({ type: sig });
        ours.push(chart.currentState());
        theirs.push(leafOf(actor.getSnapshot().value));
      }
    }
    actor.stop();
    expect(theirs).toEqual(ours);
  });

  it('benchEngine returns rows and ratios', async () => {
    const r = await benchEngine({ events: 2_000, rounds: 1 });
    expect(r.rows.map((row) => row.name)).toHaveLength(4);
    for (const row of r.rows) expect(row.eventsPerSec).toBeGreaterThan(0);
    expect(Object.keys(r.ratios)).toEqual(['instrumented / plain', 'instrumented+queue / plain', 'engine-off / xstate', 'engine-on / xstate']);
  });
});
