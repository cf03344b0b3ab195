// A program: networked charts, what sets them going, when they are done and what must hold.
// The same module runs in simulation (simulate(program, { seed })) and on real brokers (each
// chart one instance process: ops/instances/program.ts, started by a scenario or mirosnet).
// It therefore speaks only in terms both worlds have:
//   - charts: a name, a broker (index into the program's hosts), routing keys and an initial
//     state built per chart (its own closures, so that several charts share one process);
//   - report(tag, data): what a chart says about itself (real: a control line "@@TAG {json}",
//     simulated: a record of the run); done() and invariant() read the reports;
//   - workload: posts and transmits of JSON payloads into named charts (real: the instance
//     protocol's "post"/"transmit" commands, simulated: chart.postFifo / chart.transmit).
// Time inside a chart is the chart's own (its environment): timers are the engine's
// postFifo(e, { period, times }), never setTimeout; CPU time a handler spends is work(ms).
import type { State } from '../hsm/index.ts';
import type { MeshEventId } from '../net/snoop-record.ts';

/** What a chart's states can use besides the chart itself. */
export interface ChartContext {
  /** The chart's name (the ChartDef's). */
  readonly name: string;
  /** Says a fact about this chart: the program's done() and invariant() read them. */
  report(tag: string, data?: unknown): void;
  /**
   * Spends `ms` of CPU in the current step: the handler's own computation (a real instance blocks
   * its thread that long; in simulation the process is busy that long of virtual time, and what it
   * queued with setImmediate, the chart's next drain turn and its ack flushes among them, waits
   * until it is done). A chart that gets events faster than it can handle them builds a backlog,
   * as a real one does.
   */
  work(ms: number): void;
}

export interface ChartDef {
  /** The chart's name on the mesh (its queues, the sender of its events). */
  name: string;
  /** Index of its broker in the program's hosts (0-based). */
  host: number;
  txRoutingKey: string;
  rxRoutingKey: string;
  /** Builds the chart's initial state (and the states it leads to) for this chart. */
  initial(ctx: ChartContext): State;
}

/** One report of a chart, in the order it made them. */
export interface Report {
  tag: string;
  data: unknown;
}

/** A mesh event as its receiver got it (a mesh-receive record). */
export interface DeliveredEvent {
  /** The sender chart. */
  from: string;
  signal: string;
  /** The sender's sequence number of the event, counted from 1 per incarnation. */
  n: number;
}

/** What done() and invariant() see of a run, the same in simulation and on real brokers. */
export interface ProgramRun {
  /** Per chart: its reports in order. */
  reports: Record<string, Report[]>;
  /** Per chart: the mesh events it received, in the order it got them (filled once the run ended). */
  delivered: Record<string, DeliveredEvent[]>;
}

/** The drivers of a run, once every chart is up. */
export interface WorkloadContext {
  post(chart: string, signal: string, payload?: unknown): void;
  transmit(chart: string, signal: string, payload?: unknown): void;
}

export interface Program {
  name: string;
  /** How many brokers it needs. */
  hosts: number;
  charts: ChartDef[];
  /** Sets the charts going once all are up. */
  workload(ctx: WorkloadContext): void;
  /** True once the outcome is in (read from the reports). */
  done(run: ProgramRun): boolean;
  /** The program's own invariant over the whole run: one line per violation, none when it holds. */
  invariant(run: ProgramRun): string[];
  /** Virtual (simulation) or real milliseconds after which an unfinished run fails (default 60 000). */
  timeoutMs?: number;
}

/** The chart of `program` called `name`; an error naming the charts it has otherwise. */
export function chartOf(program: Program, name: string): ChartDef {
  const def = program.charts.find((c) => c.name === name);
  if (!def) throw new Error(`program ${program.name} has no chart ${JSON.stringify(name)} (its charts: ${program.charts.map((c) => c.name).join(', ')})`);
  return def;
}

/** Checks the shape of a program (a module's export); a clear error on the first thing wrong. */
export function validateProgram(value: unknown, from = 'the program'): Program {
  const p = value as Partial<Program> | null;
  const fail = (what: string): never => {
    throw new TypeError(`${from}: ${what} (a program exports { name, hosts, charts, workload, done, invariant }: docs/simulation.md)`);
  };
  if (typeof p !== 'object' || p === null) fail('not an object');
  if (typeof p!.name !== 'string' || p!.name === '') fail('name must be a non-empty string');
  if (!Number.isInteger(p!.hosts) || (p!.hosts as number) < 1) fail('hosts must be an integer >= 1');
  if (!Array.isArray(p!.charts) || p!.charts.length === 0) fail('charts must be a non-empty array');
  const names = new Set<string>();
  for (const c of p!.charts as ChartDef[]) {
    if (typeof c?.name !== 'string' || c.name === '') fail('every chart needs a name');
    if (names.has(c.name)) fail(`chart ${c.name} is defined twice`);
    names.add(c.name);
    if (!Number.isInteger(c.host) || c.host < 0 || c.host >= (p!.hosts as number)) fail(`chart ${c.name}: host must be an index below hosts (${p!.hosts})`);
    if (typeof c.txRoutingKey !== 'string' || typeof c.rxRoutingKey !== 'string') fail(`chart ${c.name}: txRoutingKey and rxRoutingKey must be strings`);
    if (typeof c.initial !== 'function') fail(`chart ${c.name}: initial must be a function (ctx) => State`);
  }
  for (const f of ['workload', 'done', 'invariant'] as const) if (typeof p![f] !== 'function') fail(`${f} must be a function`);
  return p as Program;
}

/** The delivered events of each chart, from the mesh-receive records of a run (distributed.jsonl or the simulation's). */
export function deliveredFrom(records: Iterable<{ kind: string; sender: string; event?: MeshEventId }>): Record<string, DeliveredEvent[]> {
  const delivered: Record<string, DeliveredEvent[]> = {};
  for (const r of records) {
    if (r.kind !== 'mesh-receive' || !r.event) continue;
    const e = r.event;
    (delivered[r.sender] ??= []).push({ from: e.sender, signal: e.signal, n: e.inc === null ? e.seq : e.seq - e.inc });
  }
  return delivered;
}

/**
 * What sim and real must agree on: per chart, the set of events it received, and per chart
 * and sender, the order it got that sender's events in. Lines "chart: …", sorted.
 */
export function deliveryDigest(delivered: Record<string, DeliveredEvent[]>): { sets: Record<string, string[]>; orders: Record<string, string[]> } {
  const sets: Record<string, string[]> = {};
  const orders: Record<string, string[]> = {};
  for (const chart of Object.keys(delivered).sort()) {
    const events = delivered[chart]!;
    sets[chart] = events.map((e) => `${e.from}#${e.n} ${e.signal}`).sort();
    for (const from of [...new Set(events.map((e) => e.from))].sort()) {
      orders[`${chart}<-${from}`] = events.filter((e) => e.from === from).map((e) => `${e.n} ${e.signal}`);
    }
  }
  return { sets, orders };
}
