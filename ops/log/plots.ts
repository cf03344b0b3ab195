// The plots of run.html: per time bucket (1 s, wider for long runs so a plot has at most
// MAX_BUCKETS points), in total and per chart, computed from the run dir alone:
//   - events: records per bucket (state changes, sends, receives, notes), by their sender;
//   - p50/p99: delivery latency, a mesh event's age when its receiver handled it
//     (mesh-receive ts − mesh-send ts), by the receiver and the bucket of the receive;
//   - sent, delivered, duplicates, drops: differences of the `stats` lines' counters;
//   - inFlight, unconfirmed: the `stats` lines' gauges (a chart's last value in the bucket,
//     carried on while the chart has not stopped, at most STALE_BUCKETS).
import { faultBands } from './fault-bands.ts';
import { eventKey, evidenceStats, isStop, type LoadedRecord, type RunLogs } from './records.ts';

export interface Series {
  events: number[];
  p50: Array<number | null>;
  p99: Array<number | null>;
  sent: number[];
  delivered: number[];
  inFlight: Array<number | null>;
  unconfirmed: Array<number | null>;
  duplicates: number[];
  drops: number[];
}

export interface PlotData {
  /** Start of bucket 0, ms since the epoch. */
  t0: number;
  bucketMs: number;
  buckets: number;
  total: Series;
  /** By chart, when there are at most MAX_CHART_SERIES charts. */
  perChart: Record<string, Series>;
  /** Whether any chart wrote stats lines (else the stats plots are empty). */
  hasStats: boolean;
  faults: Array<{ label: string; start: number; end: number }>;
}

export const MAX_BUCKETS = 2000;
export const MAX_CHART_SERIES = 64;
const STALE_BUCKETS = 3;

function emptySeries(n: number): Series {
  const zeros = () => new Array<number>(n).fill(0);
  const nulls = () => new Array<number | null>(n).fill(null);
  return { events: zeros(), p50: nulls(), p99: nulls(), sent: zeros(), delivered: zeros(), inFlight: nulls(), unconfirmed: nulls(), duplicates: zeros(), drops: zeros() };
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];

/** `records`: the run's records, each message once (merge.ts uniqueRecords or mergeRecords). */
export function plotData(logs: RunLogs, records: LoadedRecord[], charts: string[]): PlotData {
  const stats = logs.evidence.flatMap((f) => evidenceStats(f).map((s) => ({ s, file: f })));
  const bands = faultBands(logs.faults);
  const times = [...records.map((r) => r.ts), ...stats.map(({ s }) => s.ts)].filter(Number.isFinite);
  let lo = Infinity;
  let hi = -Infinity;
  for (const t of times) {
    if (t < lo) lo = t;
    if (t > hi) hi = t;
  }
  if (!Number.isFinite(lo)) lo = hi = 0;
  const bucketMs = Math.max(1, Math.ceil((hi - lo + 1) / 1000 / MAX_BUCKETS)) * 1000;
  const t0 = Math.floor(lo / 1000) * 1000;
  const n = Math.floor((hi - t0) / bucketMs) + 1;
  const at = (ts: number) => Math.min(n - 1, Math.max(0, Math.floor((ts - t0) / bucketMs)));
  const total = emptySeries(n);
  const withCharts = charts.length <= MAX_CHART_SERIES;
  const perChart: Record<string, Series> = {};
  if (withCharts) for (const c of charts) perChart[c] = emptySeries(n);
  const targets = (chart: string) => (withCharts && perChart[chart] ? [total, perChart[chart]] : [total]);

  // events and latency
  const sentAt = new Map<string, number>();
  for (const r of records) if (r.kind === 'mesh-send' && r.event) sentAt.set(eventKey(r.event), r.ts);
  const latencies = new Map<Series, Array<number[] | undefined>>();
  const addLatency = (s: Series, b: number, ms: number) => {
    let l = latencies.get(s);
    if (!l) latencies.set(s, (l = []));
    (l[b] ??= []).push(ms);
  };
  for (const r of records) {
    const b = at(r.ts);
    for (const s of targets(r.sender)) s.events[b]++;
    if (r.kind !== 'mesh-receive' || !r.event) continue;
    const sent = sentAt.get(eventKey(r.event));
    if (sent === undefined) continue;
    for (const s of targets(r.sender)) addLatency(s, b, Math.max(0, r.ts - sent));
  }
  for (const [s, byBucket] of latencies) {
    byBucket.forEach((list, b) => {
      if (!list) return;
      list.sort((x, y) => x - y);
      s.p50[b] = percentile(list, 0.5);
      s.p99[b] = percentile(list, 0.99);
    });
  }

  // stats lines: counter differences per incarnation, gauges carried on until the chart stops
  const byIncarnation = new Map<string, typeof stats>();
  for (const x of stats) {
    const key = `${x.file.path}/${x.s.incarnation}`;
    const list = byIncarnation.get(key);
    if (list) list.push(x);
    else byIncarnation.set(key, [x]);
  }
  const dropsOf = (d: Record<string, number>) => Object.values(d).reduce((a, v) => a + v, 0);
  for (const list of byIncarnation.values()) {
    list.sort((a, b) => a.s.n - b.s.n);
    const { s: first, file } = list[0];
    const chart = first.sender;
    const stop = file.lines.find((l) => isStop(l) && l.incarnation === first.incarnation);
    let prev = { sent: 0, delivered: 0, duplicates: 0, drops: 0 };
    const gauges: Array<[number, number] | undefined> = [];
    for (const { s } of list) {
      const b = at(s.ts);
      const now = { sent: s.sent, delivered: s.delivered, duplicates: s.duplicates, drops: dropsOf(s.drops) };
      for (const t of targets(chart)) for (const k of ['sent', 'delivered', 'duplicates', 'drops'] as const) t[k][b] += Math.max(0, now[k] - prev[k]);
      prev = now;
      gauges[b] = [s.inFlight, s.unconfirmed];
    }
    const end = stop ? at(stop.ts) : n - 1;
    let last: [number, number] | undefined;
    let age = 0;
    for (let b = at(first.ts); b <= end; b++) {
      if (gauges[b]) {
        last = gauges[b];
        age = 0;
      } else if (++age > STALE_BUCKETS) last = undefined;
      if (!last) continue;
      for (const t of targets(chart)) {
        t.inFlight[b] = (t.inFlight[b] ?? 0) + last[0];
        t.unconfirmed[b] = (t.unconfirmed[b] ?? 0) + last[1];
      }
    }
  }

  return {
    t0,
    bucketMs,
    buckets: n,
    total,
    perChart,
    hasStats: stats.length > 0,
    faults: bands.map((b) => ({ label: b.label, start: b.start, end: b.end })),
  };
}
