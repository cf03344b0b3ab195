import { afterEach, describe, expect, it } from 'vitest';
import { Event, generateKey } from '../../runtime/index.ts';
import { ANSI } from '../../runtime/net/snoop-format.ts';
import { TIMESTAMP as TS, esc } from '../../ops/scenario/checks.ts';
import { sleep, waitFor } from '../../ops/util/wait.ts';
import { RUN, idle, makeNode, stopCreated, type Recorder } from './net-helpers.ts';

const { blue: B, purple: P, reset: R } = ANSI;

const spyFrom = (n: Recorder, who: string) => n.lines.filter((l) => l.startsWith(' [+s] ') && l.includes(`${who}-${RUN}`));
const traceFrom = (n: Recorder, who: string) => n.lines.filter((l) => l.startsWith(' [+t] ') && l.includes(`${who}-${RUN}`));

describe('the snoop trace and snoop spy networks', () => {
  let nodes: Recorder[] = [];
  afterEach(stopCreated);

  it('trace-only, spy-only, both and neither: each node prints exactly the streams it joined', async () => {
    const t = makeNode('t', 0);
    const s = makeNode('s', 1);
    const both = makeNode('both', 2);
    const none = makeNode('none', 0);
    t.chart.enableSnoopTraceNoColor();
    s.chart.enableSnoopSpyNoColor();
    both.chart.enableSnoopTraceNoColor();
    both.chart.enableSnoopSpyNoColor();
    nodes = [t, s, both, none];
    await Promise.all(nodes.map((n) => n.chart.startAt(idle)));
    for (const n of nodes) n.chart.postFifo(new Event('GO'));

    // (lines sent while a peer was still creating its queue are not for that peer: wait for the GO lines)
    const wentGo = (n: Recorder, who: string) => traceFrom(n, who).some((l) => l.includes('e->GO()'));
    await waitFor('GO trace lines of t and both at t and both', () => [t, both].every((n) => wentGo(n, 't') && wentGo(n, 'both')));
    await waitFor('spy lines of s and both at s and both', () =>
      [s, both].every((n) => spyFrom(n, 's').some((l) => l.endsWith('GO:idle')) && spyFrom(n, 'both').some((l) => l.endsWith('GO:idle'))),
    );
    await sleep(300);
    // t: trace only, from the trace-enabled nodes (itself included)
    expect(t.lines.every((l) => l.startsWith(' [+t] '))).toBe(true);
    expect(traceFrom(t, 's')).toEqual([]);
    expect(traceFrom(t, 'none')).toEqual([]);
    expect(t.chart.networkStats().spy.received).toBe(0);
    // s: spy only, from the spy-enabled nodes
    expect(s.lines.every((l) => l.startsWith(' [+s] '))).toBe(true);
    expect(spyFrom(s, 't')).toEqual([]);
    expect(s.chart.networkStats().trace.received).toBe(0);
    // both: both streams; none: nothing at all
    expect(both.lines.some((l) => l.startsWith(' [+s] '))).toBe(true);
    expect(both.lines.some((l) => l.startsWith(' [+t] '))).toBe(true);
    expect(none.lines).toEqual([]);
    expect(none.chart.networkStats().trace.received + none.chart.networkStats().spy.received).toBe(0);
    // the trace lines are miros's, plain
    expect(traceFrom(t, 't')[0]).toMatch(new RegExp(`^ \\[\\+t\\] ${TS} \\[t-${RUN}\\] e->start_at\\(\\) top->idle$`));
    expect(traceFrom(both, 't').at(-1)).toMatch(new RegExp(`^ \\[\\+t\\] ${TS} \\[t-${RUN}\\] e->GO\\(\\) idle->busy$`));
    // a node's spy lines arrive complete and in order: the GO step of s as seen by both and by s itself
    const fromGo = (lines: string[]) => lines.slice(lines.findIndex((l) => l.endsWith(' GO:idle')));
    expect(fromGo(spyFrom(both, 's'))).toEqual(
      ['GO:idle', 'SEARCH_FOR_SUPER_SIGNAL:busy', 'SEARCH_FOR_SUPER_SIGNAL:idle', 'EXIT_SIGNAL:idle', 'ENTRY_SIGNAL:busy', 'INIT_SIGNAL:busy', '<- Queued:(0) Deferred:(0)'].map(
        (line) => ` [+s] s-${RUN} ${line}`,
      ),
    );
    expect(fromGo(spyFrom(s, 's'))).toEqual(fromGo(spyFrom(both, 's')));
    expect(spyFrom(s, 's')[0]).toBe(` [+s] s-${RUN} START`); // its own lines always come back whole
  });

  it('colours local names blue and remote names purple, byte-exact', async () => {
    const a = makeNode('ca', 0);
    const b = makeNode('cb', 1);
    for (const n of [a, b]) {
      n.chart.enableSnoopTrace();
      n.chart.enableSnoopSpy();
    }
    nodes = [a, b];
    await Promise.all(nodes.map((n) => n.chart.startAt(idle)));
    b.chart.postFifo(new Event('GO'));
    await waitFor('trace of b at a', () => traceFrom(a, 'cb').some((l) => l.includes('e->GO()')));
    await waitFor('spy of b at a', () => spyFrom(a, 'cb').some((l) => l.endsWith('GO:idle')));
    const an = esc(`ca-${RUN}`);
    const bn = esc(`cb-${RUN}`);
    expect(traceFrom(a, 'ca')[0]).toMatch(new RegExp(`^ \\[\\+t\\] ${TS} \\[${esc(B)}${an}${esc(R)}\\] e->start_at\\(\\) top->idle$`));
    expect(traceFrom(a, 'cb').at(-1)).toMatch(new RegExp(`^ \\[\\+t\\] ${TS} \\[${esc(P)}${bn}${esc(R)}\\] e->GO\\(\\) idle->busy$`));
    expect(spyFrom(a, 'ca')[0]).toBe(` [+s] ${B}ca-${RUN}${R} START`);
    expect(spyFrom(a, 'cb').find((l) => l.endsWith('GO:idle'))).toBe(` [+s] ${P}cb-${RUN} ${R}GO:idle`);
  });

  it('routes snoopScribble to trace, else spy, else the local spy', async () => {
    const tr = makeNode('sc-t', 0);
    const sp = makeNode('sc-s', 1);
    const lo = makeNode('sc-l', 2);
    tr.chart.enableSnoopTraceNoColor();
    tr.chart.enableSnoopSpyNoColor();
    sp.chart.enableSnoopSpyNoColor();
    nodes = [tr, sp, lo];
    await Promise.all(nodes.map((n) => n.chart.startAt(idle)));
    tr.chart.snoopScribble('via trace');
    sp.chart.snoopScribble('via spy');
    lo.chart.snoopScribble('kept local');
    await waitFor('scribbles', () =>
      tr.lines.some((l) => l.includes('# via trace')) && tr.lines.some((l) => l.includes('# via spy')),
    );
    expect(tr.lines.find((l) => l.includes('# via trace'))).toMatch(new RegExp(`^ \\[\\+t\\] ${TS} \\[sc-t-${RUN}\\] # via trace$`));
    expect(tr.lines.find((l) => l.includes('# via spy'))).toMatch(new RegExp(`^ \\[\\+s\\] sc-s-${RUN} ${TS} \\[sc-s-${RUN}\\] # via spy$`));
    expect(sp.lines.some((l) => l.includes('# via trace'))).toBe(false);
    // outside a dispatch, miros keeps a scribble in the run-to-completion spy buffer
    expect(lo.chart.spyRtc()?.some((l: string) => /\] # kept local$/.test(l))).toBe(true);
    expect([...tr.lines, ...sp.lines].some((l) => l.includes('kept local'))).toBe(false);
  });

  it('keeps networks apart by key: a wrong spy key gets no spy lines, counts the drops, still gets the mesh', async () => {
    const spyKey = generateKey();
    const a = makeNode('ka', 0, { snoopSpyEncryptionKey: spyKey });
    const b = makeNode('kb', 1, { snoopSpyEncryptionKey: spyKey });
    const odd = makeNode('kodd', 2, { snoopSpyEncryptionKey: generateKey() });
    for (const n of [a, b, odd]) n.chart.enableSnoopSpyNoColor();
    nodes = [a, b, odd];
    await Promise.all(nodes.map((n) => n.chart.startAt(idle)));
    a.chart.transmit(new Event('MESH_OK'));
    for (const n of [a, b]) n.chart.postFifo(new Event('GO')); // 7 spy lines each
    await waitFor('mesh event at odd', () => odd.received.some((e) => e.signalName === 'MESH_OK'));
    await waitFor('odd drops the spy lines of a and b', () => odd.chart.networkStats().spy.droppedBy.undecryptable >= 10);
    await waitFor('b sees a spy lines', () => spyFrom(b, 'ka').length > 0);
    expect(spyFrom(odd, 'ka')).toEqual([]);
    expect(spyFrom(odd, 'kb')).toEqual([]);
    expect(spyFrom(odd, 'kodd').length).toBeGreaterThan(0); // its own lines, under its own key
    expect(spyFrom(a, 'kodd')).toEqual([]);
    // reported once per sender and reason, not once per message
    const reports = odd.warnings.filter((w) => w.includes('undecryptable'));
    expect(reports.length).toBeGreaterThanOrEqual(1);
    expect(reports.length).toBeLessThanOrEqual(2);
    expect(reports.join('\n')).toMatch(/ka-|kb-/);
  });
});
