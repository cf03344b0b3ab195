// Spy and trace lines are kept as records and formatted when read: a record read
// later must show what was true when it was written, in the exact miros text.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { STATE_TABLE_SIZE, strippedTraceLines } from '../../runtime/hsm/instrumentation.ts';
import {
  ActiveObject,
  Event,
  HsmWithQueues,
  ReturnStatus,
  formatTimestamp,
  signals,
  spyFormat,
  state,
  stripped,
  type State,
} from '../../runtime/hsm/index.ts';

afterEach(() => {
  vi.restoreAllMocks();
});

// outer ⊃ {left, right}; GO: left <-> right; NOTE scribbles the chart's current note
function makeChart() {
  const chart = new HsmWithQueues({ name: 'deferred' });
  const note = { text: 'first' };
  const outer: State = state('outer', (c, e) => {
    if (e.signal === signals.ENTRY_SIGNAL) return ReturnStatus.HANDLED;
    if (e.signal === signals.INIT_SIGNAL) return c.trans(left);
    if (e.signal === signals.NOTE) {
      c.scribble(note.text);
      return ReturnStatus.HANDLED;
    }
    return c.super(c.top);
  });
  const left: State = state('left', (c, e) => {
    if (e.signal === signals.GO) return c.trans(right);
    return c.super(outer);
  });
  const right: State = state('right', (c, e) => {
    if (e.signal === signals.GO) return c.trans(left);
    return c.super(outer);
  });
  return { chart, note, outer, left, right };
}

function post(chart: HsmWithQueues, ...names: string[]): void {
  for (const name of names) {
    chart.postFifo(new Event(name));
    chart.completeCircuit();
  }
}

describe('deferred spy/trace formatting', () => {
  it('formats nothing until the spy is read', () => {
    const counters = Object.keys(spyFormat).map((k) => vi.spyOn(spyFormat, k as keyof typeof spyFormat));
    const { chart, left } = makeChart();
    chart.startAt(left);
    post(chart, 'GO', 'NOTE', 'GO');
    for (const c of counters) expect(c).not.toHaveBeenCalled();
    expect(chart.spy()?.length).toBeGreaterThan(10);
    expect(counters.some((c) => c.mock.calls.length > 0)).toBe(true);
  });

  it('a line read after more events shows the state, queue lengths and text of its own time', () => {
    const { chart, note, left } = makeChart();
    chart.startAt(left);
    chart.clearSpy();
    chart.clearTrace();
    post(chart, 'NOTE');
    note.text = 'second'; // the chart's data changes after the record was written
    chart.postFifo(new Event('GO'));
    chart.postFifo(new Event('GO'));
    chart.postFifo(new Event('GO'));
    chart.nextRtc();
    // read now, after the state changed and two events wait in the queue
    expect(chart.currentState()).toBe('right');
    const spy = chart.spy();
    expect(spy).toEqual([
      'NOTE:left',
      'NOTE:outer',
      'first',
      'NOTE:outer:HOOK',
      '<- Queued:(0) Deferred:(0)',
      'GO:left',
      'SEARCH_FOR_SUPER_SIGNAL:right',
      'SEARCH_FOR_SUPER_SIGNAL:left',
      'EXIT_SIGNAL:left',
      'ENTRY_SIGNAL:right',
      'INIT_SIGNAL:right',
      '<- Queued:(2) Deferred:(0)',
    ]);
    chart.completeCircuit();
    post(chart, 'NOTE');
    // the earlier lines are unchanged; the later ones show what changed since
    const again = chart.spy() as string[];
    expect(again.slice(0, spy!.length)).toEqual(spy);
    expect(again.slice(-3)).toEqual(['second', 'NOTE:outer:HOOK', '<- Queued:(0) Deferred:(0)']);
    // trace lines keep their own start and end states although the chart moved on
    expect(stripped(chart.trace() as string)).toEqual([
      '[deferred] e->GO() left->right',
      '[deferred] e->GO() right->left',
      '[deferred] e->GO() left->right',
    ]);
  });

  it('a state renamed with state() shows its old name in older records and its new one after', () => {
    const { chart, left } = makeChart();
    chart.startAt(left);
    chart.clearSpy();
    post(chart, 'NOTE');
    state('left_renamed', left);
    post(chart, 'NOTE');
    expect(chart.spy()?.filter((l) => l.startsWith('NOTE:left'))).toEqual(['NOTE:left', 'NOTE:left_renamed']);
  });

  it('the live spy callback and spyRtc get the same exact lines as spy()', () => {
    const { chart, left } = makeChart();
    const live: string[] = [];
    chart.liveSpy = true;
    chart.registerLiveSpyCallback((line) => live.push(line));
    chart.startAt(left);
    post(chart, 'GO', 'NOTE');
    expect(live).toEqual(chart.spy());
    expect(chart.spyRtc()).toEqual(['NOTE:right', 'NOTE:outer', 'first', 'NOTE:outer:HOOK', '<- Queued:(0) Deferred:(0)']);
  });

  it('keeps the ring-buffer limits: the last 250 lines of a long step, the last 500 of the spy', () => {
    const lines = Array.from({ length: 300 }, (_, i) => `line ${i}`);
    const chart = new HsmWithQueues({ name: 'long' });
    const only: State = state('only', (c, e) => {
      if (e.signal === signals.ENTRY_SIGNAL) {
        for (const l of lines) c.scribble(l);
        return ReturnStatus.HANDLED;
      }
      if (e.signal === signals.TICK) {
        c.scribble('tick');
        return ReturnStatus.HANDLED;
      }
      return c.super(c.top);
    });
    chart.startAt(only);
    // start_at's step: START, SEARCH_FOR_SUPER, ENTRY, 300 scribbles, INIT; rtc.spy keeps 250
    const step = ['START', 'SEARCH_FOR_SUPER_SIGNAL:only', 'ENTRY_SIGNAL:only', ...lines, 'INIT_SIGNAL:only'];
    expect(chart.spy()).toEqual([...step.slice(-250), '<- Queued:(0) Deferred:(0)']);
    const expected = [...step.slice(-250), '<- Queued:(0) Deferred:(0)'];
    for (let i = 0; i < 100; i++) {
      post(chart, 'TICK');
      expected.push('TICK:only', 'tick', 'TICK:only:HOOK', '<- Queued:(0) Deferred:(0)');
    }
    expect(chart.spy()).toEqual(expected.slice(-500));
  });

  it('a step of many state calls keeps every line in order (the rings grow while recording)', () => {
    // s1 ⊃ s2 ⊃ … ⊃ s12; start_at(s12) climbs 12 states and enters them all; BOUNCE goes s12 -> s12
    const depth = 12;
    const chain: State[] = [];
    for (let i = 1; i <= depth; i++) {
      const parent = i === 1 ? undefined : chain[i - 2];
      const fn: State = state(`s${i}`, (c, e) => {
        if (e.signal === signals.ENTRY_SIGNAL || e.signal === signals.EXIT_SIGNAL) return ReturnStatus.HANDLED;
        if (e.signal === signals.BOUNCE && i === depth) return c.trans(fn);
        return c.super(parent ?? c.top);
      });
      chain.push(fn);
    }
    const chart = new HsmWithQueues({ name: 'deep' });
    chart.startAt(chain[depth - 1] as State);
    const names = chain.map((f) => f.name);
    const start = [
      'START',
      ...[...names].reverse().map((n) => `SEARCH_FOR_SUPER_SIGNAL:${n}`),
      ...names.map((n) => `ENTRY_SIGNAL:${n}`),
      `INIT_SIGNAL:s${depth}`,
      '<- Queued:(0) Deferred:(0)',
    ];
    expect(chart.spy()).toEqual(start);
    post(chart, 'BOUNCE', 'BOUNCE');
    const bounce = [`BOUNCE:s${depth}`, `EXIT_SIGNAL:s${depth}`, `ENTRY_SIGNAL:s${depth}`, `INIT_SIGNAL:s${depth}`, '<- Queued:(0) Deferred:(0)'];
    expect(chart.spy()).toEqual([...start, ...bounce, ...bounce]);
    expect(stripped(chart.trace() as string)).toEqual([
      `[deep] e->start_at() top->s${depth}`,
      `[deep] e->BOUNCE() s${depth}->s${depth}`,
      `[deep] e->BOUNCE() s${depth}->s${depth}`,
    ]);
  });

  it('ActiveObject publish/subscribe lines and timestamps format as miros writes them', () => {
    const ao = new ActiveObject({ name: 'pub' });
    const idle: State = state('idle', (c, e) => {
      if (e.signal === signals.ENTRY_SIGNAL) {
        (c as ActiveObject).subscribe('NEWS');
        (c as ActiveObject).publish(new Event('NEWS'), 7.5);
        return ReturnStatus.HANDLED;
      }
      return c.super(c.top);
    });
    ao.startAt(idle);
    expect(ao.spy()).toContain('SUBSCRIBING TO:(NEWS, TYPE:fifo)');
    expect(ao.spy()).toContain('PUBLISH:(NEWS, PRIORITY:7.5)');
    void ao.stop();
    // the per-second cache of formatTimestamp gives the same text as formatting from scratch
    const micros = Date.UTC(2026, 0, 2, 3, 4, 5) * 1000 + 42;
    const d = new Date(Math.floor(micros / 1000));
    const pad = (n: number) => String(n).padStart(2, '0');
    const text = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
    expect(formatTimestamp(micros)).toBe(`${text}.000042`);
    expect(formatTimestamp(micros + 500_000)).toBe(`${text}.500042`);
    expect(formatTimestamp(micros + 1_000_000).endsWith('.000042')).toBe(true);
    expect(formatTimestamp(micros + 1_000_000).slice(0, -7)).not.toBe(text);
  });

  it('trace lines made from kept tails follow a change of the chart name and of a state name', () => {
    const { chart, left, right } = makeChart();
    chart.startAt(left);
    post(chart, 'GO', 'GO');
    expect(stripped(chart.trace() as string)).toEqual([
      '[deferred] e->start_at() top->left',
      '[deferred] e->GO() left->right',
      '[deferred] e->GO() right->left',
    ]);
    chart.name = 'renamed';
    state('right_renamed', right);
    chart.clearTrace();
    post(chart, 'GO', 'GO');
    const lines = stripped(chart.trace() as string);
    expect(lines).toEqual(['[renamed] e->GO() left->right_renamed', '[renamed] e->GO() right_renamed->left']);
    expect(strippedTraceLines(chart.instrumentation.fullTrace, chart.name)).toEqual(lines);
    // the whole line, timestamp included, is the miros text
    expect(chart.trace()).toMatch(/^\n\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}\] \[renamed\] e->GO\(\) left->right_renamed\n\[[^\]]+\] \[renamed\] e->GO\(\) right_renamed->left\n$/);
  });

  it('strippedTraceLines gives the lines of stripped(trace()) from the records, and declines line breaks', () => {
    for (const name of ['plain', 'trailing  ', ' lead', 'tab\t', undefined]) {
      const { chart, left, right } = makeChart();
      chart.name = name;
      state(`${name ?? 'x'} end `, right); // a state name ending in a space
      chart.startAt(left);
      post(chart, 'GO', 'NOTE', 'GO', 'GO');
      const records = chart.instrumentation.fullTrace;
      expect(strippedTraceLines(records, chart.name)).toEqual(stripped(chart.trace() as string));
    }
    const { chart, left } = makeChart();
    chart.name = 'two\nlines';
    chart.startAt(left);
    expect(strippedTraceLines(chart.instrumentation.fullTrace, chart.name)).toBeUndefined();
  });
});

describe('the trace ring', () => {
  it('keeps the last 500 records like a deque(maxlen=500), each line the text of its own record, and the live trace prints each new one once', () => {
    const { chart, left } = makeChart();
    const live: string[] = [];
    chart.registerLiveTraceCallback((line) => live.push(line));
    chart.liveTrace = true;
    chart.startAt(left);
    for (let i = 0; i < 600; i++) post(chart, 'GO', 'NOTE'); // NOTE is a hook: no trace line
    const trace = chart.instrumentation.fullTrace;
    expect(trace.length).toBe(500);
    const lines = stripped(chart.trace() as string);
    expect(lines).toHaveLength(500);
    // start_at, then 600 GO lines (odd ones left->right): the first 101 records are dropped
    expect(lines[0]).toBe('[deferred] e->GO() left->right');
    expect(lines.at(-1)).toBe('[deferred] e->GO() right->left');
    expect(lines.filter((l) => l.endsWith('left->right'))).toHaveLength(250);
    expect(strippedTraceLines(trace, chart.name)).toEqual(lines);
    // every line of trace() is the line of its record
    const text = (chart.trace() as string).split('\n').slice(1, -1);
    for (let i = 0; i < 500; i += 97) expect(text[i]).toBe(trace.line(i, chart.name));
    expect(trace.line(-1, chart.name)).toBe(text.at(-1));
    // live: start_at and one line per GO (the NOTE steps add none), each the trace's text of its record
    expect(live).toHaveLength(1 + 600);
    expect(live.at(-1)).toBe(text.at(-1));
    chart.clearTrace();
    expect(chart.trace()).toBe('\n');
    post(chart, 'NOTE');
    expect(live).toHaveLength(601);
    post(chart, 'GO');
    expect(live).toHaveLength(602);
    expect(stripped(live.at(-1) as string)).toEqual(['[deferred] e->GO() left->right']);
  });
});

describe('the per-chart state table', () => {
  it('a chart with more states than the table holds still spies every state by its name, and counts the overflow', () => {
    const count = STATE_TABLE_SIZE + 6;
    const chart = new HsmWithQueues({ name: 'wide' });
    // s0 ⊃ s1 … each a direct child of top; HOP moves to the next state
    const all: State[] = [];
    for (let i = 0; i < count; i++) {
      all.push(
        state(`w${i}`, (c, e) => {
          if (e.signal === signals.HOP) return c.trans(all[(i + 1) % count] as State);
          return c.super(c.top);
        }),
      );
    }
    chart.startAt(all[0] as State);
    chart.clearSpy();
    for (let i = 0; i < count; i++) post(chart, 'HOP');
    const hops = (chart.spy() as string[]).filter((l) => l.startsWith('HOP:'));
    expect(hops).toEqual(Array.from({ length: count }, (_, i) => `HOP:w${i}`));
    expect(chart.instrumentation.states.notEntered).toBeGreaterThan(0);
  });
});
