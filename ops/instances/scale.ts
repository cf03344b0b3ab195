// A scale member (the `scale` scenario): every mesh event is broadcast (one txRoutingKey
// that every member's rxRoutingKey binds) and says whom it is for: `to` a member (the ring's
// token) or '*' (a burst, for everyone). params: { index, count, durationMs, burstEveryMs,
// burstSize }. On {"cmd":"go"} it sends a burst every burstEveryMs for durationMs and member
// 0 starts the token; every event addressed to it is tallied per sender (seq ranges), with
// its latency. Reports: "@@PROGRESS {sent, received}" each second, "@@SENT {sent, ring}" when
// it stops sending, "@@RECOVERED {at}" at its first delivery of an event sent after {"cmd":"mark"}, and at stop
// "@@SCALE {...}" with the tallies (and the seqs no broker confirmed, or not yet), latency samples and its RSS.
import { Event, type NetworkedActiveObject, ReturnStatus, signals } from '../../runtime/index.ts';
import { control, param, readConfig, runInstance, type Chart } from './common.ts';

const cfg = readConfig();
const index = param(cfg, 'index', 0);
const count = param(cfg, 'count', 1);
const durationMs = param(cfg, 'durationMs', 30_000);
const burstEveryMs = param(cfg, 'burstEveryMs', 1000);
const burstSize = param(cfg, 'burstSize', 2);

interface ScaleEvent {
  from: number;
  to: number | '*';
  seq: number;
  /** Sender's clock at transmit (all members share this machine's clock). */
  t: number;
  hop?: number;
}

let seq = 0;
let sending = false;
let ringSent = 0;
/** The seqs of this member's ring tokens (for its successor only; the rest are bursts for all). */
const ringSeqs: number[] = [];
/** Seqs whose transmission is not settled yet, and those a broker never confirmed (outbox full, link closed). */
const unsettled = new Set<number>();
const unconfirmed: number[] = [];
let markAt: number | undefined;
let received = 0;
/** Per sender: the seqs received that were addressed to this member. */
const got = new Map<number, Set<number>>();
/** Latency samples (ms), a reservoir of at most 5000. */
const latencies: number[] = [];
let latencySeen = 0;

function send(chart: Chart, to: number | '*', hop?: number): void {
  const e: ScaleEvent = { from: index, to, seq: seq++, t: Date.now(), ...(hop !== undefined ? { hop } : {}) };
  const seqNo = e.seq;
  unsettled.add(seqNo);
  // "lost" is judged on confirmed events: what no broker confirmed was never the mesh's to deliver
  void chart.transmit(new Event('SCALE', e)).settled.then((r) => {
    unsettled.delete(seqNo);
    if (r.unconfirmed.length) unconfirmed.push(seqNo);
  });
  if (to !== '*') {
    ringSent++;
    ringSeqs.push(e.seq);
  }
}

function sample(ms: number): void {
  latencySeen++;
  if (latencies.length < 5000) latencies.push(ms);
  else {
    const j = Math.floor(Math.random() * latencySeen);
    if (j < 5000) latencies[j] = ms;
  }
}

function member(chart: NetworkedActiveObject, e: Event): ReturnStatus {
  if (e.signalName === 'SCALE') {
    const p = e.payload as ScaleEvent;
    if (p.to !== '*' && p.to !== index) return ReturnStatus.HANDLED; // the token is for another member
    const now = Date.now();
    received++;
    sample(now - p.t);
    let seen = got.get(p.from);
    if (!seen) got.set(p.from, (seen = new Set()));
    seen.add(p.seq);
    // failed over once an event sent after the mark reaches it (not one already on its way)
    if (markAt !== undefined && p.t > markAt) {
      control('RECOVERED', { at: now });
      markAt = undefined;
    }
    if (p.to === index && sending) send(chart, (index + 1) % count, (p.hop ?? 0) + 1);
    return ReturnStatus.HANDLED;
  }
  if (e.signalName === 'GO') {
    sending = true;
    const timer = setInterval(() => {
      for (let i = 0; i < burstSize; i++) send(chart, '*');
    }, burstEveryMs);
    if (index === 0) send(chart, 1 % count, 1);
    setTimeout(() => {
      sending = false;
      clearInterval(timer);
      control('SENT', { sent: seq, ring: ringSent });
    }, durationMs);
    return ReturnStatus.HANDLED;
  }
  if (!signals.isInner(e.signal)) return ReturnStatus.HANDLED;
  return chart.super(chart.top);
}

/** Sorted distinct numbers as [first, last] ranges: compact for mostly contiguous seqs. */
function ranges(values: Iterable<number>): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const v of [...values].sort((a, b) => a - b)) {
    const last = out.at(-1);
    if (last && v === last[1] + 1) last[1] = v;
    else out.push([v, v]);
  }
  return out;
}

const progress = setInterval(() => control('PROGRESS', { sent: seq, received }), 1000);
progress.unref();
process.on('exit', () => clearInterval(progress));

await runInstance(cfg, member, {
  onCommand: (chart, c) => {
    if (c.cmd === 'go') chart.postFifo(new Event('GO'));
    if (c.cmd === 'mark') markAt = c.payload.at;
    if (c.cmd === 'report') {
      control('SCALE', {
        index,
        sent: seq,
        ring: ringSent,
        ringSeqs: ranges(ringSeqs),
        unconfirmed: ranges([...unconfirmed, ...unsettled]),
        received,
        got: Object.fromEntries([...got].map(([from, s]) => [from, ranges(s)])),
        latencies,
        rssMb: process.memoryUsage().rss / 1024 / 1024,
      });
    }
  },
});
