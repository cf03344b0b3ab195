import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  Event,
  HsmEventProcessor,
  HsmTopologyError,
  HsmWithQueues,
  ReturnStatus,
  formatTimestamp,
  formatTraceLine,
  signals,
  spyFormat,
  state,
  stripped,
  type State,
} from '../../runtime/hsm/index.ts';

// A small chart: outer ⊃ {a, b}; a --GO--> b; b --BACK--> a; outer hooks PING.
function outer(chart: HsmWithQueues, e: Event): ReturnStatus {
  if (e.signal === signals.ENTRY_SIGNAL) return ReturnStatus.HANDLED;
  if (e.signal === signals.INIT_SIGNAL) return chart.trans(a);
  if (e.signal === signals.PING) return ReturnStatus.HANDLED;
  return chart.super(chart.top);
}
function a(chart: HsmWithQueues, e: Event): ReturnStatus {
  if (e.signal === signals.EXIT_SIGNAL) return ReturnStatus.HANDLED;
  if (e.signal === signals.GO) return chart.trans(b);
  return chart.super(outer);
}
function b(chart: HsmWithQueues, e: Event): ReturnStatus {
  if (e.signal === signals.BACK) return chart.trans(a);
  return chart.super(outer);
}

const TIMESTAMP = /^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}\] /;

afterEach(() => {
  vi.restoreAllMocks();
});

describe('event processor: transitions and spy', () => {
  it('enters the init chain on start and writes miros spy lines', () => {
    const chart = new HsmWithQueues({ name: 'ep' });
    chart.startAt(outer);
    expect(chart.currentState()).toBe('a');
    expect(chart.spy()).toEqual([
      'START',
      'SEARCH_FOR_SUPER_SIGNAL:outer',
      'ENTRY_SIGNAL:outer',
      'INIT_SIGNAL:outer',
      'SEARCH_FOR_SUPER_SIGNAL:a',
      'ENTRY_SIGNAL:a',
      'INIT_SIGNAL:a',
      '<- Queued:(0) Deferred:(0)',
    ]);
    expect(stripped(chart.trace() as string)).toEqual(['[ep] e->start_at() top->a']);
  });

  it('exits a handled-EXIT state with an explicit SEARCH_FOR_SUPER, and hooks write :HOOK and no trace', () => {
    const chart = new HsmWithQueues({ name: 'ep' });
    chart.startAt(outer);
    chart.clearSpy();
    chart.clearTrace();
    chart.postFifo(new Event('GO'));
    chart.postFifo(new Event('PING'));
    chart.completeCircuit();
    expect(chart.spy()).toEqual([
      'GO:a',
      'SEARCH_FOR_SUPER_SIGNAL:b',
      'SEARCH_FOR_SUPER_SIGNAL:a',
      'EXIT_SIGNAL:a',
      'ENTRY_SIGNAL:b',
      'INIT_SIGNAL:b',
      '<- Queued:(1) Deferred:(0)',
      'PING:b',
      'PING:outer',
      'PING:outer:HOOK',
      '<- Queued:(0) Deferred:(0)',
    ]);
    const trace = chart.trace() as string;
    expect(trace.startsWith('\n')).toBe(true);
    expect(trace.endsWith('\n')).toBe(true);
    const lines = trace.split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(TIMESTAMP);
    expect(stripped(trace)).toEqual(['[ep] e->GO() a->b']);
  });

  it('prints None for an unnamed chart', () => {
    const chart = new HsmWithQueues();
    chart.startAt(outer);
    expect(stripped(chart.trace() as string)).toEqual(['[None] e->start_at() top->a']);
  });

  it('isIn follows the hierarchy', () => {
    const chart = new HsmEventProcessor({ instrumented: false });
    chart.startAt(outer);
    expect(chart.isIn(a)).toBe(true);
    expect(chart.isIn(outer)).toBe(true);
    expect(chart.isIn(b)).toBe(false);
    expect(chart.childState(outer)).toBe(a);
  });

  it('rejects an init transition that leaves the chart', () => {
    const wild: State = state('wild', (chart, e) => (e.signal === signals.INIT_SIGNAL ? chart.trans(b) : chart.super(chart.top)));
    const chart = new HsmWithQueues();
    expect(() => chart.startAt(wild)).toThrow(HsmTopologyError);
  });

  it('names the states and the signal in its topology errors (the messages are built only when a check fails)', () => {
    const LOOP = signals.append('LOOP');
    const LEAVE = signals.append('LEAVE');
    for (const instrumented of [false, true]) {
      // 210: an event that bubbles forever (a state that is its own super state)
      const cyclic: State = state('cyclic', (chart, e) => (e.signal === signals.INIT_SIGNAL ? ReturnStatus.HANDLED : chart.super(cyclic)));
      const looping = new HsmEventProcessor({ instrumented });
      looping.state.fun = cyclic;
      looping.temp.fun = cyclic;
      expect(() => looping.dispatch(new Event(LOOP))).toThrow('[hsm assert 210] dispatch: LOOP bubbled through more than MAX_NEST_DEPTH states');

      // 240: a transition target whose init transition leads out of it
      const lonely: State = state('lonely', (chart, e) => (e.signal === signals.INIT_SIGNAL ? chart.trans(a) : chart.super(chart.top)));
      const home: State = state('home', (chart, e) => (e.signal === LEAVE ? chart.trans(lonely) : chart.super(chart.top)));
      const leaving = new HsmEventProcessor({ instrumented });
      leaving.startAt(home);
      expect(() => leaving.dispatch(new Event(LEAVE))).toThrow("[hsm assert 240] lonely's init transition must target one of its substates");

      // 421: childState of a state the chart is not in
      const chart = new HsmEventProcessor({ instrumented });
      chart.startAt(outer);
      expect(() => chart.childState(b)).toThrow('[hsm assert 421] childState: the chart is not in b');
    }
  });

  it('rejects a state that returns no status', () => {
    const broken = state('broken', ((chart: HsmWithQueues, e: Event) =>
      e.signal === signals.BROKEN ? undefined : chart.super(chart.top)) as unknown as State);
    const chart = new HsmWithQueues();
    chart.startAt(broken);
    expect(() => chart.dispatch(new Event('BROKEN'))).toThrow(/not returning a valid status/);
  });

  it('augment adds attributes, mutual adds the back reference', () => {
    const x = new HsmEventProcessor({ name: 'x' });
    const y = new HsmEventProcessor({ name: 'y' });
    x.augment({ other: y, name: 'peer', relationship: 'mutual' });
    expect((x as unknown as Record<string, unknown>).peer).toBe(y);
    expect((y as unknown as Record<string, unknown>).x).toBe(x);
  });
});

describe('event processor: instrumentation off', () => {
  it('builds no spy or trace string and still runs the chart', () => {
    const counters = Object.keys(spyFormat).map((k) => vi.spyOn(spyFormat, k as keyof typeof spyFormat));
    const chart = new HsmWithQueues({ name: 'quiet', instrumented: false });
    chart.liveSpy = true;
    chart.liveTrace = true;
    const live = vi.fn();
    chart.registerLiveSpyCallback(live);
    chart.registerLiveTraceCallback(live);
    chart.startAt(outer);
    for (const sig of ['GO', 'PING', 'BACK', 'NOBODY', 'GO']) {
      chart.postFifo(new Event(sig));
      chart.completeCircuit();
    }
    chart.defer(new Event('LATER'));
    chart.recall();
    chart.completeCircuit();
    chart.scribble('nothing');
    expect(chart.currentState()).toBe('b');
    expect(chart.spy()).toBeUndefined();
    expect(chart.trace()).toBeUndefined();
    expect(live).not.toHaveBeenCalled();
    for (const c of counters) expect(c).not.toHaveBeenCalled();

    // and the same counters do count when instrumentation is on, once the spy is read
    // (the lines are formatted when read, not when recorded)
    const loud = new HsmWithQueues({ instrumented: true });
    loud.startAt(outer);
    for (const c of counters) expect(c).not.toHaveBeenCalled();
    expect(loud.spy()).toContain('<- Queued:(0) Deferred:(0)');
    expect(counters.some((c) => c.mock.calls.length > 0)).toBe(true);
  });
});

describe('event processor: live spy and trace', () => {
  it('hands each spy line, then each new trace line with its timestamp, to the callbacks', () => {
    const chart = new HsmWithQueues({ name: 'live' });
    const spyLines: string[] = [];
    const traceLines: string[] = [];
    chart.liveSpy = true;
    chart.liveTrace = true;
    chart.registerLiveSpyCallback((line) => spyLines.push(line));
    chart.registerLiveTraceCallback((line) => traceLines.push(line));
    chart.startAt(outer);
    for (const sig of ['GO', 'PING', 'BACK']) {
      chart.postFifo(new Event(sig));
      chart.completeCircuit();
    }
    expect(spyLines).toEqual(chart.spy());
    expect(traceLines).toHaveLength(3); // start, GO, BACK (the PING hook has no trace line)
    for (const line of traceLines) {
      expect(line).toMatch(TIMESTAMP);
      expect(line.includes('\n')).toBe(false);
    }
    expect(traceLines.map((l) => stripped(l)[0])).toEqual([
      '[live] e->start_at() top->a',
      '[live] e->GO() a->b',
      '[live] e->BACK() b->a',
    ]);
  });

  it('formats timestamps as local %Y-%m-%d %H:%M:%S.%f', () => {
    const d = new Date(2026, 10, 25, 9, 3, 11, 123);
    expect(formatTimestamp(d.getTime() * 1000 + 456)).toBe('2026-11-25 09:03:11.123456');
    const line = formatTraceLine({ time: d.getTime() * 1000 + 456, startState: 'ss211', signal: 'A', endState: 'ss211' }, 'n');
    expect(line).toBe('[2026-11-25 09:03:11.123456] [n] e->A() ss211->ss211');
  });
});
