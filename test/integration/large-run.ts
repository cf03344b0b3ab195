// A large run dir made in a fraction of a second (no brokers): what a long chaos run leaves,
// in its formats. `charts` charts pass a token round a ring, each hop a mesh-send, a
// mesh-receive and the receiver's state change (3 records in distributed.jsonl); each chart's
// evidence file holds a stats line a second; faults.jsonl has one line per chaos cycle.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface LargeRun {
  dir: string;
  records: number;
  faults: Array<{ start: number; end: number }>;
  /** Wall time of each record of distributed.jsonl. */
  times: number[];
}

export function writeLargeRun(dir: string, opts: { events: number; faults: number; charts?: number; seconds?: number }): LargeRun {
  mkdirSync(dir, { recursive: true });
  const charts = opts.charts ?? 10;
  const seconds = opts.seconds ?? 1200;
  const t0 = Date.UTC(2026, 11, 7, 1, 0, 0);
  const inc = t0 * 1000;
  const names = Array.from({ length: charts }, (_, i) => `ring${i}-big`);
  const host = (i: number) => `127.0.3.${11 + (i % 3)}`;
  const seq = names.map(() => inc);
  const lamport = names.map(() => 0);
  const lines: string[] = [];
  const times: number[] = [];
  const hops = Math.ceil(opts.events / 3);
  const step = (seconds * 1000) / hops;
  const push = (r: Record<string, unknown>) => {
    lines.push(JSON.stringify(r));
    times.push(r.ts as number);
  };
  const counts = names.map(() => ({ sent: 0, delivered: 0 }));
  for (let h = 0; h < hops; h++) {
    const from = h % charts;
    const to = (h + 1) % charts;
    const ts = Math.round(t0 + h * step);
    const latency = 2 + (h % 17);
    const event = { sender: names[from], host: host(from), inc, seq: inc + h + 1, lamport: ++lamport[from], signal: 'TOKEN' };
    counts[from].sent++;
    push({ network: 'trace', sender: names[from], host: host(from), inc, seq: ++seq[from], lamport: lamport[from], ts, kind: 'mesh-send', signal: 'TOKEN', from: null, to: null, text: ` [+m] ${names[from]} sent TOKEN #${h + 1}`, event });
    lamport[to] = Math.max(lamport[to], event.lamport) + 1;
    counts[to].delivered++;
    push({ network: 'trace', sender: names[to], host: host(to), inc, seq: ++seq[to], lamport: lamport[to], ts: ts + latency, kind: 'mesh-receive', signal: 'TOKEN', from: null, to: null, text: ` [+m] ${names[to]} received TOKEN #${h + 1} from ${names[from]}`, event });
    const state = h % 2 === 0 ? 'holding' : 'passing';
    push({ network: 'trace', sender: names[to], host: host(to), inc, seq: ++seq[to], lamport: lamport[to], ts: ts + latency, kind: 'trace', signal: 'TOKEN', from: 'idle', to: state, text: ` [+t] [..] [${names[to]}] e->TOKEN() idle->${state}` });
  }
  writeFileSync(join(dir, 'distributed.jsonl'), `${lines.join('\n')}\n`);

  // stats lines: counters growing linearly, a gauge that rises during faults
  const faults: LargeRun['faults'] = [];
  const cycle = (seconds * 1000) / opts.faults;
  const faultLines = Array.from({ length: opts.faults }, (_, i) => {
    const start = Math.round(t0 + i * cycle + cycle / 4);
    const end = start + Math.round(cycle / 3);
    faults.push({ start, end });
    return JSON.stringify({ cycle: i + 1, kind: i % 2 ? 'kill-broker' : 'partition', target: [`n${(i % 3) + 1}`], injectedAt: new Date(start).toISOString(), healedAt: new Date(end).toISOString() });
  });
  writeFileSync(join(dir, 'faults.jsonl'), `${faultLines.join('\n')}\n`);
  names.forEach((name, c) => {
    const out = [JSON.stringify({ incarnation: inc, n: 1, kind: 'start', sender: name, host: host(c), pid: 1, ts: t0 })];
    for (let s = 1; s <= seconds; s++) {
      const ts = t0 + s * 1000;
      const share = s / seconds;
      const inFault = faults.some((f) => ts >= f.start && ts <= f.end);
      const sent = Math.round(counts[c].sent * share);
      out.push(JSON.stringify({
        incarnation: inc, n: s + 1, kind: 'stats', sender: name, host: host(c), ts, lamport: s,
        sent, confirmed: sent * 3, unconfirmed: inFault ? 5 : 0, inFlight: inFault ? 3 : 0, outbox: inFault ? 2 : 0,
        delivered: Math.round(counts[c].delivered * share), duplicates: Math.floor(s / 100), drops: { expired: Math.floor(s / 300) }, queue: 0,
        links: { '127.0.3.11:5672': inFault ? 'down' : 'up' },
      }));
    }
    out.push(JSON.stringify({ incarnation: inc, n: seconds + 2, kind: 'stop', sender: name, host: host(c), ts: t0 + seconds * 1000 + 1, lamport: lamport[c], totals: { lines: seconds + 1, byKind: { stats: seconds }, sent: { mesh: counts[c].sent, trace: 0, spy: 0 } } }));
    writeFileSync(join(dir, `${name}.jsonl`), `${out.join('\n')}\n`);
  });
  return { dir, records: lines.length, faults, times };
}
