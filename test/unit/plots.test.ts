// The plots of run.html (ops/log/plots.ts) on a small run made by hand: events and latency
// from the records, counter differences and gauges from the stats lines, faults as bands.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mergeRecords } from '../../ops/log/merge.ts';
import { plotData } from '../../ops/log/plots.ts';
import { loadRun } from '../../ops/log/records.ts';

const T0 = Date.UTC(2026, 11, 7, 1, 0, 0);
const INC = T0 * 1000;
const jsonl = (rows: object[]) => `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`;

function run(): string {
  const dir = mkdtempSync(join(tmpdir(), 'plots-'));
  const event = (seq: number) => ({ sender: 'a', host: 'h', inc: INC, seq: INC + seq, lamport: seq, signal: 'GO' });
  const rec = (sender: string, seq: number, ts: number, kind: string, e?: object) => ({ network: 'trace', sender, host: 'h', inc: INC, seq: INC + seq, lamport: seq, ts, kind, signal: 'GO', from: null, to: null, text: `${kind} ${seq}`, ...(e ? { event: e } : {}) });
  writeFileSync(join(dir, 'distributed.jsonl'), jsonl([
    rec('a', 1, T0 + 100, 'mesh-send', event(1)),
    rec('b', 1, T0 + 110, 'mesh-receive', event(1)), // 10 ms
    rec('a', 2, T0 + 1200, 'mesh-send', event(2)),
    rec('b', 2, T0 + 1240, 'mesh-receive', event(2)), // 40 ms
    rec('a', 3, T0 + 1300, 'mesh-send', event(3)),
    rec('b', 3, T0 + 1320, 'mesh-receive', event(3)), // 20 ms
  ]));
  const stats = (n: number, ts: number, over: object) => ({ incarnation: INC, n, kind: 'stats', sender: 'a', host: 'h', ts, lamport: 0, sent: 0, confirmed: 0, unconfirmed: 0, inFlight: 0, outbox: 0, delivered: 0, duplicates: 0, drops: {}, queue: 0, links: {}, ...over });
  writeFileSync(join(dir, 'a.jsonl'), jsonl([
    { incarnation: INC, n: 1, kind: 'start', sender: 'a', host: 'h', pid: 1, ts: T0 },
    stats(2, T0 + 500, { sent: 1, inFlight: 2, unconfirmed: 3 }),
    stats(3, T0 + 1500, { sent: 3, duplicates: 2, drops: { expired: 1 } }),
    { incarnation: INC, n: 4, kind: 'stop', sender: 'a', host: 'h', ts: T0 + 1600, lamport: 3, totals: { lines: 3, byKind: { stats: 2 }, sent: { mesh: 3, trace: 0, spy: 0 } } },
  ]));
  writeFileSync(join(dir, 'faults.jsonl'), jsonl([{ cycle: 1, kind: 'partition', target: ['n1'], injectedAt: new Date(T0 + 1000).toISOString(), healedAt: new Date(T0 + 1400).toISOString() }]));
  return dir;
}

describe('plots of a run', () => {
  it('per 1 s bucket: events, latency percentiles, counter differences, gauges, fault bands', () => {
    const logs = loadRun([run()]);
    const p = plotData(logs, mergeRecords(logs), ['a', 'b']);
    expect(p).toMatchObject({ t0: T0, bucketMs: 1000, buckets: 2, hasStats: true });
    expect(p.total.events).toEqual([2, 4]);
    expect(p.perChart.a.events).toEqual([1, 2]);
    expect(p.perChart.b.p50).toEqual([10, 40]);
    expect(p.total.p99).toEqual([10, 40]);
    expect(p.total.p50).toEqual([10, 40]); // [20, 40]: the upper median
    expect(p.total.sent).toEqual([1, 2]);
    expect(p.total.duplicates).toEqual([0, 2]);
    expect(p.total.drops).toEqual([0, 1]);
    expect(p.total.inFlight).toEqual([2, 0]);
    expect(p.total.unconfirmed).toEqual([3, 0]);
    expect(p.perChart.b.inFlight).toEqual([null, null]); // b wrote no stats
    expect(p.faults).toEqual([{ label: 'partition n1', start: T0 + 1000, end: T0 + 1400 }]);
  });
});
