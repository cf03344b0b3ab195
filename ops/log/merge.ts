// `mirosnet log merge`: one causally consistent order of every record of a run. The same
// message found in several logs (a sender's evidence file and distributed.jsonl) counts
// once. The order is a topological sort of "happened before": each sender's records in
// their own order (Lamport clock, then wall time, then n or seq), and every mesh receive
// after its send; among the records that may come next, the lowest Lamport stamp, then
// the earliest wall time goes first. So a receive never precedes its send, even from
// nodes without a clock.
import { append, eventKey, evidenceRecords, messageKey, type LoadedRecord, type RunLogs } from './records.ts';

/** Records of all logs, each message once (the sender's own copy preferred: it has n). */
export function uniqueRecords(logs: RunLogs): LoadedRecord[] {
  const out: LoadedRecord[] = [];
  const keys = new Set<string>();
  for (const r of [...logs.evidence.flatMap(evidenceRecords), ...logs.distributed.flatMap((d) => d.records)]) {
    const key = messageKey(r);
    if (key) {
      if (keys.has(key)) continue;
      keys.add(key);
    }
    out.push(r);
  }
  return out;
}

const clock = (r: LoadedRecord) => r.lamport ?? -1;

function byStamp(a: LoadedRecord, b: LoadedRecord): number {
  return clock(a) - clock(b) || a.ts - b.ts || (a.n ?? 0) - (b.n ?? 0) || (a.seq ?? 0) - (b.seq ?? 0);
}

/** A small binary heap (the ready records, smallest first). */
class Heap<T> {
  readonly #items: T[] = [];
  constructor(private readonly less: (a: T, b: T) => number) {}
  get size(): number {
    return this.#items.length;
  }
  push(x: T): void {
    const a = this.#items;
    a.push(x);
    for (let i = a.length - 1; i > 0; ) {
      const p = (i - 1) >> 1;
      if (this.less(a[i], a[p]) >= 0) break;
      [a[i], a[p]] = [a[p], a[i]];
      i = p;
    }
  }
  pop(): T | undefined {
    const a = this.#items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      a[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.less(a[l], a[m]) < 0) m = l;
        if (r < a.length && this.less(a[r], a[m]) < 0) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m], a[i]];
        i = m;
      }
    }
    return top;
  }
}

/** Every record once, in causal order (see the module comment). */
export function mergeRecords(logs: RunLogs): LoadedRecord[] {
  const records = uniqueRecords(logs);
  const index = new Map(records.map((r, i) => [r, i]));
  const after: number[][] = records.map(() => []);
  const waiting = records.map(() => 0);
  const edge = (from: number, to: number) => {
    after[from].push(to);
    waiting[to]++;
  };
  // program order per sender incarnation
  const chains = new Map<string, LoadedRecord[]>();
  for (const r of records) {
    const key = `${r.sender}@${r.host}/${r.inc}`;
    append(chains, key, r);
  }
  for (const chain of chains.values()) {
    chain.sort(byStamp);
    for (let i = 1; i < chain.length; i++) edge(index.get(chain[i - 1])!, index.get(chain[i])!);
  }
  // every receive after its send
  const sends = new Map<string, number>();
  for (const r of records) if (r.kind === 'mesh-send' && r.event) sends.set(eventKey(r.event), index.get(r)!);
  for (const r of records) {
    if (r.kind !== 'mesh-receive' || !r.event) continue;
    const s = sends.get(eventKey(r.event));
    if (s !== undefined) edge(s, index.get(r)!);
  }
  const ready = new Heap<number>((a, b) => byStamp(records[a], records[b]));
  waiting.forEach((w, i) => w === 0 && ready.push(i));
  const out: LoadedRecord[] = [];
  while (ready.size > 0) {
    const i = ready.pop()!;
    out.push(records[i]);
    for (const j of after[i]) if (--waiting[j] === 0) ready.push(j);
  }
  // a cycle is impossible unless a log lies (a receive stamped before its send by the same chart): keep those last, by stamp
  if (out.length < records.length) out.push(...records.filter((_, i) => waiting[i] > 0).sort(byStamp));
  return out;
}

/** The merged records as JSON lines (without `origin`, with `source`: file:line). */
export function toJsonl(records: LoadedRecord[]): string {
  return records.map(({ origin, ...r }) => JSON.stringify({ ...r, source: `${origin.file}:${origin.line}` })).join('\n') + (records.length ? '\n' : '');
}

/** The merged records as distributed.log lines (mesh records as " [+m] …" lines). */
export function toLog(records: LoadedRecord[]): string {
  return records.map((r) => r.text).join('\n') + (records.length ? '\n' : '');
}
