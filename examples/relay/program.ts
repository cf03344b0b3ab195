// The relay: a program (docs/simulation.md) of three networked charts on three brokers, run
// the same in simulation (simulate(relay, { seed })) and on a real testbed (one instance per
// chart: ops/instances/program.ts).
//   pinger  (broker 0): on GO, a periodic TICK (the engine's timer: postFifo with period and
//           times) transmits PING {n} for n = 1..pings; it collects the PONGs and the AUDITED,
//           then reports FINISHED;
//   ponger  (broker 1): answers each PING {n} with PONG {n} to the pinger and REPORT {n} to
//           the auditor;
//   auditor (broker 2): counts the REPORTs; once it has them all, a one-shot timer (a quiet
//           period) later it transmits AUDITED {count, inOrder} back to the pinger.
// Events flow both ways (pinger <-> ponger, ponger -> auditor -> pinger). Every chart
// listens on relay.# and ignores what is not for it. The invariant: every PING was answered
// once and in order, the auditor saw the REPORTs 1..pings in order, and every chart got each
// sender's events once each, in the order they were sent.
import { Event, ReturnStatus, signals, type NetworkedActiveObject, type State } from '../../runtime/index.ts';
import type { ChartContext, Program, ProgramRun } from '../../runtime/sim/program.ts';

export interface RelayOptions {
  /** PINGs the pinger sends (default 10). */
  pings?: number;
  /** Seconds between them (default 0.05). */
  periodS?: number;
  /** The auditor's quiet period before it answers, seconds (default 0.1). */
  quietS?: number;
  /** PINGs each TICK transmits at once (default 1): a burst deeper than a drain turn queues up at every chart. */
  burst?: number;
  /** CPU ms the ponger spends answering each PING (default 0): ctx.work. */
  answerMs?: number;
  /** CPU ms the pinger spends on each PONG and the auditor on each REPORT (default 0): slower than the answers, they queue up there too. */
  checkMs?: number;
}

type Payload = { n?: number; count?: number; inOrder?: boolean };
const payloadOf = (e: Event): Payload => (e.payload ?? {}) as Payload;
const net = (chart: unknown) => chart as NetworkedActiveObject;

export function relayProgram(options: RelayOptions = {}): Program {
  const pings = options.pings ?? 10;
  const periodS = options.periodS ?? 0.05;
  const quietS = options.quietS ?? 0.1;
  const burst = Math.max(1, options.burst ?? 1);
  const answerMs = options.answerMs ?? 0;
  const checkMs = options.checkMs ?? 0;
  const work = (ctx: ChartContext, ms: number) => void (ms > 0 && ctx.work(ms));

  function pinger(ctx: ChartContext): State {
    let sent = 0;
    const pongs: number[] = [];
    let audited = false;
    const finishedIfAll = (chart: NetworkedActiveObject): ReturnStatus => (pongs.length === pings && audited ? chart.trans(finished) : ReturnStatus.HANDLED);
    const waiting: State = function waiting(chart, e) {
      if (e.signalName === 'GO') return chart.trans(pinging);
      return chart.super(chart.top);
    };
    const pinging: State = function pinging(chart, e) {
      if (e.signal === signals.ENTRY_SIGNAL) {
        // bursts: the first goes at once (every chart hears the pinger early, as it does with single PINGs)
        net(chart).postFifo(new Event('TICK'), { period: periodS, times: Math.ceil(pings / burst), ...(burst > 1 ? { deferred: false } : {}) });
        return ReturnStatus.HANDLED;
      }
      if (e.signalName === 'TICK') {
        for (let i = 0; i < burst && sent < pings; i++) {
          sent++;
          net(chart).transmit(new Event('PING', { n: sent }));
          ctx.report('PINGED', { n: sent });
        }
        return ReturnStatus.HANDLED;
      }
      if (e.signalName === 'PONG') {
        work(ctx, checkMs);
        const { n } = payloadOf(e);
        pongs.push(n ?? -1);
        ctx.report('PONGED', { n });
        return finishedIfAll(net(chart));
      }
      if (e.signalName === 'AUDITED') {
        audited = true;
        ctx.report('AUDITED', payloadOf(e));
        return finishedIfAll(net(chart));
      }
      return chart.super(chart.top);
    };
    const finished: State = function finished(chart, e) {
      if (e.signal === signals.ENTRY_SIGNAL) {
        ctx.report('FINISHED', { sent, pongs: pongs.length });
        return ReturnStatus.HANDLED;
      }
      return chart.super(chart.top);
    };
    return waiting;
  }

  function ponger(ctx: ChartContext): State {
    return function answering(chart, e) {
      if (e.signalName === 'PING') {
        work(ctx, answerMs);
        const { n } = payloadOf(e);
        net(chart).transmit(new Event('PONG', { n }));
        net(chart).transmit(new Event('REPORT', { n }));
        ctx.report('ANSWERED', { n });
        return ReturnStatus.HANDLED;
      }
      return chart.super(chart.top);
    };
  }

  function auditor(ctx: ChartContext): State {
    const seen: number[] = [];
    const counting: State = function counting(chart, e) {
      if (e.signalName === 'REPORT') {
        work(ctx, checkMs);
        seen.push(payloadOf(e).n ?? -1);
        ctx.report('COUNTED', { n: payloadOf(e).n });
        if (seen.length === pings) return chart.trans(quiet);
        return ReturnStatus.HANDLED;
      }
      return chart.super(chart.top);
    };
    // a one-shot timer: QUIET once, quietS after the last REPORT
    const quiet: State = function quiet(chart, e) {
      if (e.signal === signals.ENTRY_SIGNAL) {
        net(chart).postFifo(new Event('QUIET'), { period: quietS, times: 1 });
        return ReturnStatus.HANDLED;
      }
      if (e.signalName === 'QUIET') {
        const inOrder = seen.every((n, i) => n === i + 1);
        net(chart).transmit(new Event('AUDITED', { count: seen.length, inOrder }));
        ctx.report('AUDIT', { count: seen.length, inOrder });
        return chart.trans(done);
      }
      return chart.super(chart.top);
    };
    const done: State = function done(chart, _e) {
      return chart.super(chart.top);
    };
    return counting;
  }

  const tags = (run: ProgramRun, chart: string, tag: string) => (run.reports[chart] ?? []).filter((r) => r.tag === tag).map((r) => r.data as Payload);
  const oneToN = (ns: Array<number | undefined>) => ns.length === pings && ns.every((n, i) => n === i + 1);

  return {
    name: 'relay',
    hosts: 3,
    charts: [
      { name: 'pinger', host: 0, txRoutingKey: 'relay.pinger', rxRoutingKey: 'relay.#', initial: pinger },
      { name: 'ponger', host: 1, txRoutingKey: 'relay.ponger', rxRoutingKey: 'relay.#', initial: ponger },
      { name: 'auditor', host: 2, txRoutingKey: 'relay.auditor', rxRoutingKey: 'relay.#', initial: auditor },
    ],
    workload: (ctx) => ctx.post('pinger', 'GO'),
    done: (run) => tags(run, 'pinger', 'FINISHED').length > 0,
    invariant(run) {
      const problems: string[] = [];
      const expect = (ok: boolean, what: string) => void (ok || problems.push(what));
      expect(oneToN(tags(run, 'pinger', 'PINGED').map((p) => p.n)), `pinger pinged ${JSON.stringify(tags(run, 'pinger', 'PINGED').map((p) => p.n))}, not 1..${pings}`);
      expect(oneToN(tags(run, 'ponger', 'ANSWERED').map((p) => p.n)), `ponger answered ${JSON.stringify(tags(run, 'ponger', 'ANSWERED').map((p) => p.n))}, not 1..${pings} once each in order`);
      expect(oneToN(tags(run, 'pinger', 'PONGED').map((p) => p.n)), `pinger got PONGs ${JSON.stringify(tags(run, 'pinger', 'PONGED').map((p) => p.n))}, not 1..${pings} once each in order`);
      expect(oneToN(tags(run, 'auditor', 'COUNTED').map((p) => p.n)), `auditor counted ${JSON.stringify(tags(run, 'auditor', 'COUNTED').map((p) => p.n))}, not 1..${pings} in order`);
      const audit = tags(run, 'auditor', 'AUDIT');
      expect(audit.length === 1 && audit[0]!.count === pings && audit[0]!.inOrder === true, `auditor's AUDIT ${JSON.stringify(audit)}: want one, count ${pings}, in order`);
      expect(tags(run, 'pinger', 'AUDITED').length === 1, `pinger got ${tags(run, 'pinger', 'AUDITED').length} AUDITED, want 1`);
      expect(tags(run, 'pinger', 'FINISHED').length === 1, 'pinger did not finish');
      // every chart got each sender's events once each and in the order they were sent (1, 2, 3, …)
      for (const [chart, events] of Object.entries(run.delivered)) {
        for (const from of new Set(events.map((e) => e.from))) {
          const ns = events.filter((e) => e.from === from).map((e) => e.n);
          expect(ns.every((n, i) => n === i + 1), `${chart} got ${from}'s events as #${ns.join(', #')}: not once each in order`);
        }
      }
      return problems;
    },
    timeoutMs: 30_000,
  };
}

/**
 * The relay the fault search is measured on (`npm run bench -- sim`): 96 PINGs in two bursts of 48,
 * 8 s apart, about 290 mesh events (PING, PONG, REPORT each). The charts take CPU time for them
 * (the ponger 40 ms an answer, the pinger and the auditor 120 ms a check), so each burst is a backlog
 * several drain turns deep for seconds at every chart, as on a loaded host; the auditor's quiet period
 * (40 s) ends the run after about 60 s of virtual time, well after the faults have healed.
 */
export const relayBench: Program = {
  ...relayProgram({ pings: 96, periodS: 8, burst: 48, answerMs: 40, checkMs: 120, quietS: 40 }),
  name: 'relay-bench',
  timeoutMs: 120_000,
};

/** The relay with its defaults: 10 PINGs, 50 ms apart. */
export const program: Program = relayProgram();
export default program;
