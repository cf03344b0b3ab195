// The checker of a simulated run under faults, over its records (distributed.jsonl: the
// monitor's mesh-send and mesh-receive records) and its fault log. The accounting is the
// chaos scenario's own (ops/scenario/chaos-ledger.ts: one ledger for both), fed from the
// records instead of the instances' control lines:
//   - no event lost: every event a sender's mesh-send record shows reaches every other chart,
//     except those a deleted queue held or that were routed to it while it was gone (counted
//     as removed by the fault), and those of a SIGKILLed or stopped sender that may have died
//     in its outbox unconfirmed (the runtime gives no per-event confirm: the ledger counts them
//     apart, as the chaos scenario's kills);
//   - no event handled twice by one incarnation of a chart;
//   - per-sender order, per receiving chart;
//   - liveness: the run ends `livenessMs` after the last heal, so a missing event is late;
//   - the program's own done() and invariant() (simulate's problems), unless waived;
//   - bounded resends (issue 30.1): per link, no more resends for nacks than messages nacked
//     (networkStats(): one nack takes back that message alone, never the in-flight window);
//   - flow control (issue 30.2): nothing published, no channel opened, on a connection the
//     broker has blocked (the simulated sockets see it: result.flow).
import type { FaultRecord } from '../../runtime/sim/faults.ts';
import type { SimulationResult } from '../../runtime/sim/simulate.ts';
import { SIM_EPOCH_MS } from '../../runtime/sim/world.ts';
import { ChaosLedger, type ChaosResult } from '../scenario/chaos-ledger.ts';

export interface SimCheck {
  ok: boolean;
  /** One line per violation. */
  problems: string[];
  ledger: ChaosResult;
  /** Deliveries of an event to one incarnation of a chart beyond the first. */
  duplicatedInIncarnation: number;
}

type MeshRecord = SimulationResult['records'][number];

/** Checks a simulated run (with or without faults). */
export function checkSimRun(result: SimulationResult): SimCheck {
  const hostOf = Object.fromEntries(Object.entries(result.chartHosts).map(([chart, i]) => [chart, result.hosts[i] ?? String(i)]));
  const ledger = new ChaosLedger(hostOf);
  const incarnations = new Map<string, number>();
  const incOf = (chart: string, iid: string | undefined, inc: number | null): number => {
    const k = `${chart}\u0000${iid ?? String(inc)}`;
    let n = incarnations.get(k);
    if (n === undefined) {
      n = incarnations.size + 1;
      incarnations.set(k, n);
    }
    return n;
  };
  const charts = new Set(Object.keys(hostOf));
  const sends: MeshRecord[] = [];
  const receives: MeshRecord[] = [];
  for (const r of result.records) {
    if (!r.event || !charts.has(r.sender)) continue;
    if (r.kind === 'mesh-send') sends.push(r);
    else if (r.kind === 'mesh-receive') receives.push(r);
  }
  // a send record reaches the monitor late while its sender cannot reach the monitor's broker: for the
  // kill excuse (could the event have been handled before the receiver died?) the sender's own clock,
  // less the clock steps its host had by then, tells when it was sent
  const offsetAt = clockOffsets(result.faults?.records ?? []);
  for (const r of sends) ledger.onSent(r.sender, incOf(r.sender, r.event!.iid, r.event!.inc), r.event!.seq, r.rx, r.ts - offsetAt(r.sender, r.rx));
  const handled = new Map<string, number>();
  let duplicatedInIncarnation = 0;
  const duplicateExamples: string[] = [];
  for (const r of receives) {
    const e = r.event!;
    if (!charts.has(e.sender)) continue;
    ledger.onReceived(r.sender, { f: e.sender, i: incOf(e.sender, e.iid, e.inc), s: e.seq }, r.rx);
    const k = `${r.sender}\u0000${r.iid ?? r.inc}\u0000${e.sender}\u0000${e.iid ?? e.inc}\u0000${e.seq}`;
    const n = (handled.get(k) ?? 0) + 1;
    handled.set(k, n);
    if (n > 1) {
      duplicatedInIncarnation++;
      if (duplicateExamples.length < 3) duplicateExamples.push(`${r.sender} (one incarnation) handled ${e.sender}#${e.seq} ${e.signal} ${n} times`);
    }
  }
  // a graceful stop abandons (and counts) what a link could not confirm by then, as a SIGKILL loses it:
  // without per-event confirms the ledger counts both alike (their unconfirmed events are not promised)
  for (const k of [...(result.faults?.killed ?? []), ...(result.faults?.stopped ?? [])]) ledger.onKilled(k.chart, incOf(k.chart, k.iid, null));
  for (const f of result.faults?.records ?? []) if ((f.kind === 'kill' || f.kind === 'stop') && f.chart && f.skipped === undefined) ledger.onKilledAt(f.chart, SIM_EPOCH_MS + f.startedAt);
  for (const f of result.faults?.records ?? []) if (f.kind === 'delete-queue' && f.queue?.startsWith('miros.mesh.') && f.chart) ledger.onRemoved(f.chart, removedBy(f)); // the ledger counts mesh events
  for (const [chart, n] of Object.entries(replayDrops(result))) ledger.onRemoved(chart, n);

  const r = ledger.result();
  const problems: string[] = [...result.problems];
  problems.push(...diedRecordProblems(result, receives, r.lostAtKilledBy));
  if (r.lost > 0) problems.push(`${r.lost} event deliveries lost (${Object.entries(r.lostBy).map(([c, n]) => `${c}: ${n}`).join(', ')}), e.g. ${r.examples.join('; ')}`);
  if (duplicatedInIncarnation > 0) problems.push(`${duplicatedInIncarnation} events handled twice by one incarnation, e.g. ${duplicateExamples.join('; ')}`);
  if (r.reordered > 0) problems.push(`${r.reordered} events arrived out of their sender's order`);
  problems.push(...resendProblems(result), ...flowProblems(result));
  return { ok: problems.length === 0, problems, ledger: r, duplicatedInIncarnation };
}

/**
 * The kill excuse, bounded: an event missing at a SIGKILLed receiver is excused because its receipt
 * record may have died with the process; the records that died are those it had made by the kill
 * (networkStats().meshRecords.receive then) less those the monitor got from that incarnation. More
 * missing there than died means events the chart never handled: lost (a redelivered copy acked while
 * its original still waited in the chart, issue 21.2). Receivers ever stopped gracefully are left out
 * (a stopping chart may handle events without a record), as are kills without the count.
 */
function diedRecordProblems(result: SimulationResult, receives: readonly MeshRecord[], lostAtKilledBy: Record<string, number>): string[] {
  const problems: string[] = [];
  const stopped = new Set((result.faults?.stopped ?? []).map((k) => k.chart));
  for (const [receiver, missing] of Object.entries(lostAtKilledBy)) {
    const kills = (result.faults?.killed ?? []).filter((k) => k.chart === receiver);
    if (stopped.has(receiver) || kills.length === 0 || kills.some((k) => k.receiptRecords === undefined)) continue;
    let died = 0;
    for (const k of kills) {
      const seen = new Set(receives.filter((x) => x.sender === receiver && x.iid === k.iid).map((x) => `${x.event!.sender}\u0000${x.event!.iid ?? x.event!.inc}\u0000${x.event!.seq}`));
      died += Math.max(0, k.receiptRecords! - seen.size);
    }
    if (missing > died) problems.push(`${missing - died} events never handled at ${receiver}: ${missing} missing there since its kills, and only ${died} receipt records died with them`);
  }
  return problems;
}

/**
 * Events each receiver dropped as replays, over its incarnations (networkStats(): at each kill or
 * stop, and at the end), in a run where a clock step brought a chart back far behind: a receiver
 * that never heard that sender before refuses its events, by design (replay-guard.ts; faults.ts,
 * CLOCK_STEP_WHILE_DOWN_FACTOR). They count as removed by the fault; in any other run a replay drop
 * is no excuse.
 */
function replayDrops(result: SimulationResult): Record<string, number> {
  const log = result.faults;
  if (!log?.records.some((f) => f.kind === 'clock-step' && f.steppedMs !== undefined)) return {};
  const drops: Record<string, number> = {};
  const add = (chart: string, n: number | undefined) => void (n && (drops[chart] = (drops[chart] ?? 0) + n));
  for (const k of [...log.killed, ...log.stopped]) add(k.chart, k.replayDrops);
  for (const [chart, stats] of Object.entries(result.stats ?? {})) add(chart, stats.mesh?.droppedBy.replay);
  return drops;
}

/** Each chart's host clock offset (ms) at a wall time (ms), from the run's clock-step faults (they outlive restarts). */
function clockOffsets(records: readonly FaultRecord[]): (chart: string, at: number) => number {
  const steps = records.filter((f) => f.kind === 'clock-step' && f.chart !== undefined && f.skipped === undefined);
  return (chart, at) => {
    let offset = 0;
    for (const f of steps) if (f.chart === chart && SIM_EPOCH_MS + f.startedAt <= at) offset += f.steppedMs ?? f.amount ?? 0;
    return offset;
  };
}

/**
 * Resends bounded by their causes (issue 30.1), from each chart's networkStats() at its stop (its
 * last incarnation): per link, messages resent because the broker nacked them are at most the
 * messages it nacked.
 */
export function resendProblems(result: Pick<SimulationResult, 'stats'>): string[] {
  const problems: string[] = [];
  for (const [chart, stats] of Object.entries(result.stats)) {
    for (const link of stats.brokers) {
      if (link.resentBy.nack > link.nacked) problems.push(`${chart} resent ${link.resentBy.nack} messages for ${link.nacked} nacks from ${link.broker} (a nack takes back that message alone)`);
    }
  }
  return problems;
}

/** Flow control (issue 30.2): a chart whose broker blocked its connection publishes nothing there, and replaces no channel, until unblocked. */
export function flowProblems(result: Pick<SimulationResult, 'flow'>): string[] {
  const problems: string[] = [];
  for (const [chart, f] of Object.entries(result.flow ?? {})) {
    if (f.publishedWhileBlocked > 0 || f.channelsOpenedWhileBlocked > 0) {
      problems.push(`${chart} ignored flow control: ${f.publishedWhileBlocked} messages published and ${f.channelsOpenedWhileBlocked} channels opened on connections its broker had blocked`);
    }
  }
  return problems;
}

/**
 * Events a queue deletion removed at its chart: those the queue held then, and the publishes its
 * bindings matched while it was gone, until the chart bound it again (the simulated broker counts
 * them; such a publish is confirmed and goes nowhere, as on RabbitMQ).
 */
function removedBy(f: FaultRecord): number {
  return (f.removed ?? 0) + (f.routedNowhere ?? 0);
}
