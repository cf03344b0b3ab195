// `mirosnet log check`: is the evidence complete? It reports
//   - in each evidence file: per incarnation, lines missing (n counts 1, 2, 3… with no gap),
//     duplicated or out of order, a missing or wrong closing record, unreadable lines;
//   - in distributed.jsonl: per sender, network and incarnation, sequence numbers missing
//     (from 1, and up to the last one the sender's own file shows), duplicated or reordered;
//   - mesh events sent but never received, and received but never sent (or received twice);
//   - stats lines (docs/metrics.md) with a missing field or a counter that went down.
// A loss inside a fault band of faults.jsonl is listed as expected instead.
import { basename } from 'node:path';
import { FAULT_GRACE_MS, bandAt, faultBands, isExpectedLoss } from './fault-bands.ts';
import { append, eventKey, evidenceRecords, evidenceStats, isStop, messageKey, where, type LoadedRecord, type LoadedStats, type RunLogs } from './records.ts';

export interface LogCheckResult {
  ok: boolean;
  /** One line each; a missing line is named by its file, incarnation and n, and by its text when another log has it. */
  problems: string[];
  /** Losses that a fault of faults.jsonl explains. */
  expected: string[];
  counts: {
    evidenceFiles: number;
    evidenceRecords: number;
    distributedRecords: number;
    senders: number;
    meshSent: number;
    meshReceived: number;
  };
}

const describe = (r: LoadedRecord) => `${JSON.stringify(r.text)} (${where(r.origin)})`;

export function checkLogs(logs: RunLogs): LogCheckResult {
  const problems: string[] = [];
  const expected: string[] = [];
  const bands = faultBands(logs.faults);
  const declared = new Map(logs.faults.filter(isExpectedLoss).flatMap((f) => f.senders.map((s) => [s, f.reason] as const)));
  /** A loss of a message of `sender` at `ts`: expected during a fault band or from a declared sender, else a problem. */
  const lossAt = (ts: number | undefined, message: string, sender?: string) => {
    const band = ts === undefined ? undefined : bandAt(bands, ts);
    if (band) expected.push(`${message} [during ${band.label}]`);
    else if (sender !== undefined && declared.has(sender)) expected.push(`${message} [${sender}: ${declared.get(sender)}]`);
    else problems.push(message);
  };

  // every published message any log has, by key: to name what another log lacks
  const byMessage = new Map<string, LoadedRecord>();
  const distributed = logs.distributed.flatMap((d) => d.records);
  const local = logs.evidence.flatMap((f) => evidenceRecords(f));
  for (const r of [...local, ...distributed]) {
    const key = messageKey(r);
    if (key && !byMessage.has(key)) byMessage.set(key, r);
  }
  const distributedKeys = new Set(distributed.map(messageKey).filter((k): k is string => k !== undefined));

  // 1. evidence files
  for (const file of logs.evidence) {
    const name = basename(file.path);
    for (const o of file.unreadable) problems.push(`${where(o)}: not a JSON object`);
    // an incarnation is its number (the seq base, from the clock) and, from newer nodes, its random id
    const incarnations = new Map<string, typeof file.lines>();
    for (const l of file.lines) append(incarnations, incarnationOf(l.incarnation, l.iid), l);
    for (const [incarnation, lines] of incarnations) {
      const inc = lines[0]!.incarnation;
      const label = `${name}: incarnation ${incarnation}`;
      const seen = new Map<number, (typeof lines)[number]>();
      let last = 0;
      for (const l of lines) {
        if (seen.has(l.n)) problems.push(`${label}: line n=${l.n} twice (${where(seen.get(l.n)!.origin)} and ${where(l.origin)})`);
        else if (l.n < last) problems.push(`${label}: line n=${l.n} after n=${last} (${where(l.origin)})`);
        seen.set(l.n, l);
        last = Math.max(last, l.n);
      }
      const stop = lines.find(isStop);
      const end = stop ? stop.n : last;
      for (let n = 1; n <= end; n++) {
        if (seen.has(n)) continue;
        const before = [...seen.values()].filter((l) => l.n < n).at(-1);
        const after = [...seen.values()].find((l) => l.n > n);
        // what the line held, if another log has a message of this sender that the file lacks, between its neighbours
        const localKeys = new Set(lines.map((l) => ('network' in l ? messageKey(l) : undefined)).filter(Boolean));
        const guess = distributed.filter(
          (r) => r.inc === inc && r.iid === lines[0]?.iid && `${r.sender}` === lines[0]?.sender && !localKeys.has(messageKey(r)) && (!before || r.ts >= before.ts) && (!after || r.ts <= after.ts),
        );
        const was = n === 1 ? ' (the start record)' : guess.length === 1 ? `: it was ${JSON.stringify(guess[0].text)} (${where(guess[0].origin)})` : '';
        lossAt(before?.ts ?? after?.ts, `${label}: line n=${n} missing, between ${before ? where(before.origin) : 'the start of the file'} and ${after ? where(after.origin) : 'the end'}${was}`);
      }
      if (!stop) {
        const tail = lines.at(-1)!;
        const message = `${label}: no closing record after n=${last} (${where(tail.origin)}): the last line is missing, or the chart did not stop cleanly`;
        // killed on purpose (a fault aimed at this chart, e.g. the chaos scenario's kill-instance, right after its last line): it could not close
        const killedBy = bands.find((b) => b.target.includes(tail.sender) && b.start >= tail.ts && b.start <= tail.ts + FAULT_GRACE_MS);
        if (killedBy) expected.push(`${message} [killed: ${killedBy.label}]`);
        else lossAt(tail.ts, message);
      } else {
        if (stop.totals.lines !== stop.n - 1) problems.push(`${label}: the closing record (${where(stop.origin)}) counts ${stop.totals.lines} lines before it, n says ${stop.n - 1}`);
        if (lines.at(-1) !== stop) problems.push(`${label}: lines after the closing record (${where(lines.at(-1)!.origin)})`);
      }
    }
  }

  // 1b. stats lines: well formed, and the counters of one incarnation never go down
  for (const file of logs.evidence) {
    const last = new Map<number, LoadedStats>();
    for (const s of evidenceStats(file)) {
      const bad = statsProblem(s, last.get(s.incarnation));
      if (bad) problems.push(`${basename(file.path)}: incarnation ${s.incarnation}: stats line n=${s.n} (${where(s.origin)}) ${bad}`);
      last.set(s.incarnation, s);
    }
  }

  // 2. distributed.jsonl: per stream (network, sender, host, incarnation), seq − inc counts from 1
  for (const d of logs.distributed) for (const o of d.unreadable) problems.push(`${where(o)}: not a JSON object`);
  const streams = new Map<string, LoadedRecord[]>();
  /** Each stream's seq base (its key ends in the incarnation, with its id when the sender sends one). */
  const baseOf = new Map<string, number>();
  for (const r of distributed) {
    if (r.network === 'local' || r.seq === null || r.inc === null) continue; // an old node: no incarnation
    const key = `${r.network}/${r.sender}@${r.host}/${incarnationOf(r.inc, r.iid)}`;
    append(streams, key, r);
    baseOf.set(key, r.inc);
  }
  // the highest seq each stream's sender recorded locally: what should have arrived
  const localMax = new Map<string, number>();
  for (const r of local) {
    if (r.network === 'local' || r.seq === null || r.inc === null) continue;
    const key = `${r.network}/${r.sender}@${r.host}/${incarnationOf(r.inc, r.iid)}`;
    baseOf.set(key, r.inc);
    localMax.set(key, Math.max(localMax.get(key) ?? 0, r.seq));
    if (!streams.has(key) && logs.distributed.length > 0) streams.set(key, []);
  }
  if (logs.distributed.length > 0) {
    for (const [key, records] of streams) {
      const seen = new Map<number, LoadedRecord>();
      let max = 0;
      const inc = baseOf.get(key)!;
      for (const r of records) {
        const at = r.seq! - inc;
        if (seen.has(at)) problems.push(`${key}: seq ${r.seq} (#${at}) twice: ${where(seen.get(at)!.origin)} and ${where(r.origin)}`);
        else if (at < max) problems.push(`${key}: seq ${r.seq} (#${at}) arrived after #${max} (${where(r.origin)})`);
        seen.set(at, r);
        max = Math.max(max, at);
      }
      const want = Math.max(max, (localMax.get(key) ?? 0) - inc);
      for (let at = 1; at <= want; at++) {
        if (seen.has(at)) continue;
        const seq = inc + at;
        const known = byMessage.get(`${key.split('/').slice(0, 2).join('/')}#${seq}`);
        lossAt(known?.ts, `${key}: seq ${seq} (#${at}) never reached distributed.jsonl${known ? `: ${describe(known)}` : ''}`, known?.sender);
      }
    }
  }

  // 3. mesh events: every send received, every receive sent, none received twice by one incarnation
  const sends = new Map<string, LoadedRecord>();
  const receives = new Map<string, LoadedRecord[]>();
  const seenReceipt = new Map<string, LoadedRecord>();
  for (const r of [...local, ...distributed]) {
    if (!r.event) continue;
    const key = eventKey(r.event);
    if (r.kind === 'mesh-send') {
      if (!sends.has(key)) sends.set(key, r);
      continue;
    }
    if (r.kind !== 'mesh-receive') continue;
    // the same receipt may be in the receiver's file and in distributed.jsonl: one receipt
    const receipt = `${key}>${r.sender}@${r.host}/${incarnationOf(r.inc, r.iid)}/${messageKey(r) ?? `n${r.n}`}`;
    if (seenReceipt.has(receipt)) continue;
    seenReceipt.set(receipt, r);
    append(receives, key, r);
  }
  for (const [key, list] of receives) {
    const by = new Map<string, LoadedRecord>();
    for (const r of list) {
      const who = `${r.sender}@${r.host}/${incarnationOf(r.inc, r.iid)}`;
      if (by.has(who)) problems.push(`mesh ${key} (${r.signal}) received twice by ${r.sender}: ${where(by.get(who)!.origin)} and ${where(r.origin)}`);
      by.set(who, r);
    }
    if (!sends.has(key)) lossAt(list[0].ts, `mesh ${key} (${list[0].signal}) received by ${[...new Set(list.map((r) => r.sender))].join(', ')} but never sent: no send record (${where(list[0].origin)})`, list[0].event!.sender);
  }
  for (const [key, send] of sends) {
    if (!receives.has(key)) lossAt(send.ts, `mesh ${key} (${send.signal}) sent but never received (${where(send.origin)})`, send.event!.sender);
  }

  return {
    ok: problems.length === 0,
    problems,
    expected,
    counts: {
      evidenceFiles: logs.evidence.length,
      evidenceRecords: local.length,
      distributedRecords: distributed.length,
      senders: new Set([...local, ...distributed].map((r) => `${r.sender}@${r.host}`)).size,
      meshSent: sends.size,
      meshReceived: [...receives.values()].reduce((n, l) => n + l.length, 0),
    },
  };
}

const STATS_COUNTERS = ['sent', 'confirmed', 'delivered', 'duplicates'] as const;
const STATS_GAUGES = ['unconfirmed', 'inFlight', 'outbox', 'queue'] as const;
const isCount = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;

/** What is wrong with a stats line (given the one before it in its incarnation), if anything. */
export function statsProblem(s: LoadedStats, previous: LoadedStats | undefined): string | undefined {
  for (const f of [...STATS_COUNTERS, ...STATS_GAUGES]) if (!isCount(s[f])) return `has no count "${f}"`;
  if (typeof s.drops !== 'object' || s.drops === null || !Object.values(s.drops).every(isCount)) return 'has no drops by reason';
  if (typeof s.links !== 'object' || s.links === null || !Object.values(s.links).every((v) => typeof v === 'string')) return 'has no link states';
  if (!previous) return undefined;
  for (const f of STATS_COUNTERS) if (s[f] < previous[f]) return `counts ${f} ${s[f]}, less than ${previous[f]} at n=${previous.n}`;
  for (const [reason, n] of Object.entries(previous.drops)) if ((s.drops[reason] ?? 0) < n) return `counts drops.${reason} ${s.drops[reason] ?? 0}, less than ${n} at n=${previous.n}`;
  return undefined;
}

/** The report `mirosnet log check` prints. */
export function formatCheck(result: LogCheckResult): string {
  const c = result.counts;
  const head =
    `log check: ${result.ok ? 'OK' : `${result.problems.length} problem${result.problems.length === 1 ? '' : 's'}`} ` +
    `(${c.evidenceFiles} evidence files with ${c.evidenceRecords} records, ${c.distributedRecords} records in distributed.jsonl, ` +
    `${c.senders} senders, ${c.meshSent} mesh events sent, ${c.meshReceived} received)`;
  return [head, ...result.problems.map((p) => `  MISSING/WRONG  ${p}`), ...result.expected.map((e) => `  expected       ${e}`)].join('\n');
}

/** An incarnation's name in the checks: its number (the seq base), and its random id (iid) when the node sends one. */
function incarnationOf(inc: number | null | undefined, iid: string | undefined): string {
  return iid === undefined ? String(inc) : `${inc}/${iid}`;
}
