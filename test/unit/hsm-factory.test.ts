import { afterEach, describe, expect, it } from 'vitest';
import { Event, Factory, HsmWithQueues, ReturnStatus, signals, stripped, type State } from '../../runtime/hsm/index.ts';
import { sleep } from '../../ops/util/wait.ts';

const handled = (): ReturnStatus => ReturnStatus.HANDLED;
const stops: Factory[] = [];
afterEach(async () => {
  await Promise.all(stops.splice(0).map((f) => f.stop()));
});

/** The spec §7 example, built with the Factory. */
function buildFactoryChart(): { f: Factory; outer: State; inner: State } {
  const f = new Factory('fac');
  stops.push(f);
  const entry = (chart: Factory): ReturnStatus => {
    chart.scribble('hi');
    return ReturnStatus.HANDLED;
  };
  const outer: State = f
    .createState('outer')
    .catch(signals.ENTRY_SIGNAL, entry)
    .catch(signals.A, (chart: Factory) => chart.trans(outer))
    .toMethod();
  const inner = f.createState('inner').catch(signals.EXIT_SIGNAL, handled).toMethod();
  f.nest(outer, null).nest(inner, outer);
  return { f, outer, inner };
}

const SPEC_SPY = [
  'START',
  'SEARCH_FOR_SUPER_SIGNAL:inner',
  'SEARCH_FOR_SUPER_SIGNAL:outer',
  'ENTRY_SIGNAL:outer',
  'hi',
  'ENTRY_SIGNAL:inner',
  'INIT_SIGNAL:inner',
  '<- Queued:(0) Deferred:(0)',
  'A:inner',
  'A:outer',
  'EXIT_SIGNAL:inner',
  'SEARCH_FOR_SUPER_SIGNAL:inner',
  'EXIT_SIGNAL:outer',
  'ENTRY_SIGNAL:outer',
  'hi',
  'INIT_SIGNAL:outer',
  '<- Queued:(0) Deferred:(0)',
];
const SPEC_TRACE = ['[fac] e->start_at() top->inner', '[fac] e->A() inner->outer'];

describe('Factory', () => {
  it('produces the spy and trace of the spec §7 example', async () => {
    const { f, inner } = buildFactoryChart();
    f.startAt(inner);
    f.postFifo(new Event('A'));
    await sleep(30);
    expect(f.spy()).toEqual(SPEC_SPY);
    expect(stripped(f.trace() as string)).toEqual(SPEC_TRACE);
    expect(f.currentState()).toBe('outer');
  });

  it('produces the same spy and trace as the equivalent hand-written chart', () => {
    // hand-written: a state handles what it catches and answers SUPER for the rest
    function outer(chart: HsmWithQueues, e: Event): ReturnStatus {
      if (e.signal === signals.ENTRY_SIGNAL) {
        chart.scribble('hi');
        return ReturnStatus.HANDLED;
      }
      if (e.signal === signals.A) return chart.trans(outer);
      return chart.super(chart.top);
    }
    function inner(chart: HsmWithQueues, e: Event): ReturnStatus {
      if (e.signal === signals.EXIT_SIGNAL) return ReturnStatus.HANDLED;
      return chart.super(outer);
    }
    const run = (chart: HsmWithQueues, start: State) => {
      chart.startAt(start);
      for (const sig of ['A', 'B', 'A']) {
        chart.postFifo(new Event(sig));
        chart.completeCircuit();
      }
      return { spy: chart.spy(), trace: stripped(chart.trace() as string), state: chart.currentState() };
    };
    const hand = run(new HsmWithQueues({ name: 'fac' }), inner);
    const { f, inner: fInner } = buildFactoryChart();
    const fact = run(f, fInner); // synchronous: the queue is empty before the drain step fires
    expect(fact).toEqual(hand);
    expect(hand.spy!.slice(0, SPEC_SPY.length)).toEqual(SPEC_SPY);
  });

  it('accepts state names in nest and startAt', () => {
    const f = new Factory({ name: 'named' });
    stops.push(f);
    f.createState('p').catch('GO', (c: Factory) => c.trans(f.states.q as State)).toMethod();
    f.createState('q').toMethod();
    f.nest('p', null).nest('q', 'p');
    f.startAt('p');
    f.postFifo(new Event('GO'));
    f.completeCircuit();
    expect(f.currentState()).toBe('q');
    expect(Object.keys(f.handlersOf('p'))).toEqual(['GO']);
    expect(() => f.nest('nope', null)).toThrow(/no state named 'nope'/);
  });

  it('turns an UNHANDLED handler answer into SUPER (no EMPTY_SIGNAL round trip)', () => {
    const f = new Factory('guard');
    stops.push(f);
    const p = f.createState('p').catch('X', () => ReturnStatus.HANDLED).toMethod();
    const c = f.createState('c').catch('X', () => ReturnStatus.UNHANDLED).toMethod();
    f.nest(p, null).nest(c, p);
    f.startAt(c);
    f.clearSpy();
    f.dispatch(new Event('X'));
    expect(f.spy()).toEqual(['X:c', 'X:p', 'X:p:HOOK']);
  });
});
