// What a simulated run gives back (simulate.ts makes it; evidence.ts writes it; the checker,
// ops/sim/check.ts, reads it): its own module, so that none of them imports another for types.
import type { NetworkStats } from '../net/miros-nets.ts';
import type { SnoopRecord } from '../net/snoop-record.ts';
import type { SimFlowCounters } from './amqp.ts';
import type { FaultPlan, FaultRecord } from './faults.ts';
import type { DeliveredEvent, Report } from './program.ts';

/** What a run's faults did, for the checker (ops/sim/check.ts). */
export interface SimFaultLog {
  plan: FaultPlan;
  records: FaultRecord[];
  /** Virtual ms (since the world began) at which the workload started. */
  workloadAt: number;
  /**
   * Chart incarnations (iid) ended by SIGKILL, with the mesh-receive records each had made by then
   * (networkStats().meshRecords.receive) and the mesh events it had dropped as replays (a sender's
   * clock far behind, unheard before: by design, counted by reason).
   */
  killed: Array<{ chart: string; iid: string; receiptRecords?: number; replayDrops?: number }>;
  /** Chart incarnations ended by a graceful stop (what a link could not confirm by then is abandoned, and counted, by the runtime), with the replays it had dropped by then. */
  stopped: Array<{ chart: string; iid: string; replayDrops?: number }>;
  /** Chart restarts. */
  restarts: number;
  /** Why the program's own done() and invariant() were not applied (it is not built for restarts), if so. */
  waived?: string;
}

/** A record of distributed.jsonl: as the monitor received it, `rx` its virtual wall time then. */
export type SimRecord = SnoopRecord & { rx: number };

export interface SimulationResult {
  program: string;
  seed: number;
  /** process.version: promise ordering is part of a run, so a seed replays on the same Node. */
  node: string;
  /** sha256 (hex) of the run's records, reports and virtual end time. */
  hash: string;
  /** The program finished (done) within its timeout, and its invariant holds. */
  pass: boolean;
  /** Why not: the invariant's lines, a timeout. */
  problems: string[];
  virtualMs: number;
  /** distributed.jsonl: every snoop and mesh record the monitor received, in arrival order. */
  records: SimRecord[];
  /** distributed.log. */
  lines: string[];
  reports: Record<string, Report[]>;
  delivered: Record<string, DeliveredEvent[]>;
  /** networkStats() of each chart at its stop. */
  stats: Record<string, NetworkStats>;
  /** What each chart's processes did against their brokers' flow control (the simulated sockets saw it; not in the hash). */
  flow?: Record<string, SimFlowCounters>;
  /** The library's warnings (onWarning), per chart. */
  warnings: Record<string, string[]>;
  hosts: string[];
  /** Each chart's broker (an index into hosts). */
  chartHosts: Record<string, number>;
  /** With faults: what they did. */
  faults?: SimFaultLog;
  /** With `out`: the log check of the evidence written there (mirosnet log check passes iff ok). */
  logCheck?: { ok: boolean; problems: string[] };
  out?: string;
}

