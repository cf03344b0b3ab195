// simulate(program, { seed }): the program's charts, real NetworkedActiveObjects (the outbox,
// receiver, envelope and Fernet of runtime/net), each in a simulated process of a SimWorld
// with that process's Environment (virtual clock, seeded randomness, simulated brokers), run
// to completion; the guard (guard.ts) makes anything real inside the run throw.
// The run mirrors a scenario run on real brokers (ops/scenario/runner.ts): a monitor chart on
// broker 0 with the snoop trace and spy on, whose lines are distributed.log and whose records
// are distributed.jsonl; every chart with its snoop trace on (plain) and, with `out`, its
// evidence file <name>.jsonl. The result's hash is a sha256 over a canonical serialisation of
// the records, the reports and the virtual end time: one seed, one hash.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { Environment } from '../env/environment.ts';
import { Event, type State } from '../hsm/index.ts';
import { NetworkedActiveObject } from '../net/networked.ts';
import type { NetworkStats, NetworkedOptions } from '../net/miros-nets.ts';

export type { SimFaultLog, SimRecord, SimulationResult } from './result.ts';
export { canonicalJson } from './canonical.ts';
import { canonicalJson } from './canonical.ts';
import { installGuard, refusedCalls } from './guard.ts';
import { SimWorld } from './world.ts';
import type { SimFaultLog, SimRecord, SimulationResult } from './result.ts';
import type { SimFlowCounters } from './amqp.ts';
import { faultInjector, planFaults, scheduleFaults, type Fault, type FaultKind, type FaultPlan } from './faults.ts';
import { armTriggers, triggersSpanMs, validateTriggers, type FaultTrigger, type TriggerWatch } from './triggers.ts';
import { setRegressions, type Regression } from '../net/regressions.ts';
import { deliveredFrom, validateProgram, type ChartContext, type DeliveredEvent, type Program, type ProgramRun, type Report } from './program.ts';

/** What simulate() needs of a world (the SimWorld of world.ts has it). */
export interface SimWorldPort {
  readonly seed: number;
  /** Virtual milliseconds since the world began. */
  readonly elapsedMs: number;
  /** A simulated process with its own Environment. */
  process(name: string): { readonly name: string; readonly environment: Environment; readonly flow?: Readonly<SimFlowCounters>; compute?(ms: number): void };
  /** Puts a simulated broker on `host`. */
  broker(host: string): unknown;
  /** Runs events (and the promise jobs they start) up to virtual time `untilMs`. */
  run(options?: { untilMs?: number; maxSteps?: number }): Promise<void>;
  /** `while (!stop()) await run({ untilMs: elapsedMs + stepMs })`, faster where the world has it (SimWorld). */
  runSteps?(stepMs: number, stop: () => boolean): Promise<void>;
}

/**
 * What writes a run's evidence into `out`. It lives with the testbed's log writers (ops/sim/evidence.ts);
 * `simulate` of miros-rabbitmq/sim passes it, so the runtime itself never imports the ops kit.
 */
export interface SimEvidenceWriter {
  /** Makes `out`; throws if it already holds a run. */
  prepare(out: string): void;
  /** Writes the files; returns the log check of them. */
  write(result: SimulationResult, out: string): { check: { ok: boolean; problems: string[] } };
}

export interface SimulateOptions {
  seed: number;
  /** Writes the run's evidence there (distributed.log, distributed.jsonl, <chart>.jsonl, run.html, summary.json); needs `evidence`. */
  out?: string;
  /** The evidence writer for `out` (miros-rabbitmq/sim's simulate passes the testbed's). */
  evidence?: SimEvidenceWriter;
  /** Builds the world for a seed (default: new SimWorld(seed)). */
  world?: (seed: number) => SimWorldPort;
  /** Faults chosen by the seed (faults.ts); the world must then be a SimWorld. */
  faults?: SimFaultOptions;
  /** Test-only: old behaviours of runtime/net switched back for this run (runtime/net/regressions.ts). */
  regressions?: readonly Regression[];
}

export interface SimFaultOptions {
  /** The kinds that may occur ('all' or a list); with swarm (default) the seed picks among them. */
  kinds: readonly FaultKind[] | 'all';
  swarm?: boolean;
  /** Faults per run (default 20). */
  count?: number;
  /** Virtual ms after the workload starts within which faults start and heal (default 20,000). */
  spanMs?: number;
  /** Virtual ms after the last heal (or the end of the span) within which every event must arrive (default 10,000). */
  livenessMs?: number;
  /** Faults triggered by state ("partition host 1 from ponger when pinger enters waiting"): runtime/sim/triggers.ts. */
  triggers?: readonly FaultTrigger[];
  /**
   * Replays exactly these faults instead of the seed's (a shrunk schedule: ops/sim/shrink.ts).
   * The seed still drives everything else; the seed's plan is drawn all the same, so the
   * world's other streams do not move.
   */
  schedule?: readonly Fault[];
}

/** The brokers' addresses in a simulated world: any strings would do, these read like a testbed's. */
export function simHosts(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `10.0.0.${i + 1}`);
}

const USER = 'sim';
const PASSWORD = 'sim';
/** A chart whose restart fails is started again this many times, this many virtual ms apart. */
const RESTART_ATTEMPTS = 20;
const RESTART_DELAY_MS = 1000;
/** Virtual ms between checks of a run's condition. */
const STEP_MS = 5;
/** Virtual time a start may take. */
const START_LIMIT_MS = 30_000;
/** Virtual time after done() for the last acks, as a real run's instances drain before they stop. */
const SETTLE_MS = 500;

/** A Fernet key from the world's own randomness (url-safe base64 of 32 bytes). */
function keyFrom(env: Environment): string {
  return env.randomBytes(32).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

const idle: State = function idle(chart, _e) {
  return chart.super(chart.top);
};

/** Runs `program` in a simulated world from `seed` to completion. */
export async function simulate(programValue: Program, options: SimulateOptions): Promise<SimulationResult> {
  const program = validateProgram(programValue);
  const { seed } = options;
  if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`seed must be an integer >= 0, got ${seed}`);
  const makeWorld = options.world ?? ((s: number) => new SimWorld(s));

  const hosts = simHosts(program.hosts);
  const triggers = options.faults?.triggers ?? [];
  validateTriggers(triggers, program.charts.map((c) => c.name), program.hosts);
  let triggerWatch: TriggerWatch | undefined;
  const reports: Record<string, Report[]> = Object.fromEntries(program.charts.map((c) => [c.name, []]));
  const warnings: Record<string, string[]> = {};
  const records: SimRecord[] = [];
  const lines: string[] = [];
  const stats: Record<string, NetworkStats> = {};
  const flow: Record<string, SimFlowCounters> = {};
  const problems: string[] = [];
  let virtualMs = 0;
  let faultLogOut: SimFaultLog | undefined;
  /** Set when the run's final stop begins: a restart that this stop interrupts is not retried. */
  let finishing = false;

  if (options.out && !options.evidence) throw new Error("simulate: out needs an evidence writer: import simulate from 'miros-rabbitmq/sim' (it passes the testbed's)");
  if (options.out) options.evidence!.prepare(options.out);
  const restore = installGuard(options.out ? { allowWritesUnder: options.out } : {});
  const switched: Environment[] = [];
  try {
    const world = makeWorld(seed);
    for (const host of hosts) world.broker(host);
    const keys = world.process('keys').environment;
    const secrets = { meshEncryptionKey: keyFrom(keys), snoopTraceEncryptionKey: keyFrom(keys), snoopSpyEncryptionKey: keyFrom(keys) };
    const base = (name: string, host: string, environment: Environment): NetworkedOptions => ({
      environment,
      rabbitUser: USER,
      rabbitPassword: PASSWORD,
      ...secrets,
      hosts,
      thisAddress: host,
      processName: name,
      rediscoverIntervalMs: 0,
      output: () => undefined,
      onWarning: (m) => (warnings[name] ??= []).push(m),
    });

    const until = async (what: string, cond: () => boolean, limitMs: number) => {
      const start = world.elapsedMs;
      const stop = () => {
        if (cond()) return true;
        // a refused call a chart's handler caught (the engine logs handler errors) still ends the run
        const refused = refusedCalls()[0];
        if (refused) throw refused;
        if (world.elapsedMs - start > limitMs) throw new SimulationTimeout(`${what}: not within ${limitMs} virtual ms (at ${world.elapsedMs} ms)`);
        return false;
      };
      if (world.runSteps) return world.runSteps(STEP_MS, stop);
      while (!stop()) await world.run({ untilMs: world.elapsedMs + STEP_MS });
    };
    const settle = async <T>(what: string, promise: Promise<T>, limitMs = START_LIMIT_MS): Promise<T> => {
      let done = false;
      const watched = promise.finally(() => (done = true));
      watched.catch(() => undefined);
      await until(what, () => done, limitMs);
      return watched;
    };

    // the monitor, as a scenario's (its own routing key: never driven)
    const monitorEnv = world.process('monitor').environment;
    const monitor = new NetworkedActiveObject('monitor', {
      ...base('monitor', hosts[0]!, monitorEnv),
      txRoutingKey: 'monitor.sim',
      rxRoutingKey: 'monitor.sim',
      onSnoopRecord: (record) => records.push({ ...record, rx: monitorEnv.now() }),
      output: (line) => lines.push(line),
    });
    monitor.enableSnoopSpyNoColor();
    monitor.enableSnoopTraceNoColor();
    await settle('the monitor starting', monitor.startAt(idle));

    const charts = new Map<string, NetworkedActiveObject>();
    const processOf = new Map<string, string>();
    const processesOf = new Map<string, string[]>(); // every process of a chart, restarts included
    const makeChart = (def: (typeof program.charts)[number], processName: string) => {
      const env = world.process(processName).environment;
      processesOf.set(def.name, [...(processesOf.get(def.name) ?? []), processName]);
      if (options.regressions?.length) {
        setRegressions(env, options.regressions);
        switched.push(env);
      }
      const chart = new NetworkedActiveObject(def.name, {
        ...base(def.name, hosts[def.host]!, env),
        txRoutingKey: def.txRoutingKey,
        rxRoutingKey: def.rxRoutingKey,
        // a restarted chart appends to its evidence file, as a real restarted instance does
        ...(options.out ? { evidenceFile: join(options.out, `${def.name}.jsonl`) } : {}),
      });
      chart.enableSnoopTraceNoColor();
      triggerWatch?.watch(chart, def.name);
      charts.set(def.name, chart);
      processOf.set(def.name, processName);
      return chart;
    };
    for (const def of program.charts) makeChart(def, def.name);
    const contextOf = (def: (typeof program.charts)[number]): ChartContext => ({
      name: def.name,
      report: (tag, data = {}) => reports[def.name]!.push({ tag, data }),
      // the CPU of the chart's process now (a restart's new one): its immediates wait meanwhile
      work: (ms) => world.process(processOf.get(def.name) ?? def.name).compute?.(ms),
    });
    const initials = program.charts.map((def) => def.initial(contextOf(def)));
    await settle('the charts starting', Promise.all(program.charts.map((def, i) => charts.get(def.name)!.startAt(initials[i]!))));

    const chart = (name: string) => {
      const c = charts.get(name);
      if (!c) throw new Error(`program ${program.name}: the workload names chart ${JSON.stringify(name)}, which it does not have`);
      return c;
    };
    program.workload({
      post: (name, signal, payload) => void chart(name).postFifo(new Event(signal, payload)),
      transmit: (name, signal, payload) => void chart(name).transmit(new Event(signal, payload)),
    });
    const view: ProgramRun = { reports, delivered: {} };
    let faultLog: SimFaultLog | undefined;
    if (options.faults) {
      if (!(world instanceof SimWorld)) throw new TypeError('simulate: faults need a SimWorld (options.world must build one)');
      const f = options.faults;
      const seeded = planFaults(world.stream('faults'), { kinds: f.kinds, count: f.count ?? 20, spanMs: f.spanMs ?? 20_000, charts: program.charts.map((c) => c.name), hosts: hosts.length, spareHosts: hosts.length > 1 ? [0] : [], ...(f.swarm !== undefined ? { swarm: f.swarm } : {}) });
      const plan: FaultPlan = f.schedule ? scheduledPlan(f.schedule) : seeded;
      const log: SimFaultLog = { plan, records: [], workloadAt: world.elapsedMs, killed: [], stopped: [], restarts: 0 };
      const incarnations = new Map<string, number>();
      const stoppedByFault = new WeakSet<NetworkedActiveObject>();
      // a chart whose start failed is started again RESTART_DELAY_MS later (a supervisor's auto-restart): pending ones by chart
      const supervisor = new Map<string, number>();
      const cancelSupervisor = (name: string) => {
        const pending = supervisor.get(name);
        if (pending === undefined) return;
        world.cancel(pending);
        supervisor.delete(name);
      };
      /** Each chart's host clock offset: clock steps outlive a restart of the process. */
      const clockOffsets = new Map<string, number>();
      const targets: Parameters<typeof scheduleFaults>[1] = {
        world,
        hosts,
        processOf: (name) => processOf.get(name) ?? name,
        waive: (why) => void (log.waived ??= `program ${program.name}: done() and invariant() not applied: ${why}`),
        kill: (name) => {
          const c = chart(name);
          // its receipt records so far (published or waiting in its outbox): the check bounds what the kill may excuse by those that died
          const stats = c.networkStats();
          log.killed.push({ chart: name, iid: c.nets.incarnationId, receiptRecords: stats.meshRecords.receive, replayDrops: stats.mesh.droppedBy.replay ?? 0 });
          world.process(processOf.get(name) ?? name).kill();
        },
        stop: async (name) => {
          cancelSupervisor(name); // `systemctl stop` ends a pending auto-restart too
          const c = chart(name);
          log.stopped.push({ chart: name, iid: c.nets.incarnationId, replayDrops: c.networkStats().mesh.droppedBy.replay ?? 0 });
          stoppedByFault.add(c);
          await c.stop();
        },
        stepClock: (name, ms) => {
          clockOffsets.set(name, (clockOffsets.get(name) ?? 0) + ms);
          world.process(processOf.get(name) ?? name).stepClock(ms);
        },
        restart: function restart(name, attempt = 1) {
          cancelSupervisor(name); // a start (the fault's heal) ends a pending auto-restart, as `systemctl start` does
          const def = program.charts.find((c) => c.name === name)!;
          const n = (incarnations.get(name) ?? 1) + 1;
          incarnations.set(name, n);
          world.process(`${name}#${n}`).stepClock(clockOffsets.get(name) ?? 0);
          log.restarts++;
          log.waived ??= `program ${program.name}: done() and invariant() not applied: chart ${name} restarted (its state starts afresh)`;
          const c = makeChart(def, `${name}#${n}`);
          c.startAt(def.initial(contextOf(def))).catch((err: unknown) => {
            // the run's final stop ended this start: that stop is under way on this process, which must
            // live to finish it (killing it here left the stop waiting on timers that never fire)
            if (finishing) return;
            // a stop fault ended this start: the stop's heal restarts the chart, not the supervisor
            // (restarting it here as well left two live charts of one name, one never stopped)
            if (stoppedByFault.has(c)) return;
            // as a supervisor (systemd Restart=on-failure) would: the failed process exits, a new one starts a moment later
            world.process(`${name}#${n}`).kill();
            if (attempt >= RESTART_ATTEMPTS) problems.push(`${name} restarting: ${(err as Error).message} (${attempt} attempts)`);
            else
              supervisor.set(
                name,
                world.schedule(RESTART_DELAY_MS, () => {
                  supervisor.delete(name);
                  restart(name, attempt + 1);
                }),
              );
          });
        },
      };
      const injector = faultInjector(targets);
      log.records = scheduleFaults(plan, targets, injector);
      if (triggers.length > 0) {
        const workloadAt = log.workloadAt;
        triggerWatch = armTriggers(triggers, { injector, schedule: (ms, fn) => world.schedule(ms, fn), elapsedMs: () => world.elapsedMs, workloadAt });
        for (const [name, c] of charts) triggerWatch.watch(c, name);
      }
      faultLog = log;
    }
    const lastHeal = () => (faultLog ? Math.max(faultLog.workloadAt + Math.max(faultLog.plan.lastHealMs, 0), triggerWatch?.lastHealAt ?? 0) : 0);
    const livenessMs = options.faults?.livenessMs ?? 10_000;
    try {
      await until(
        `program ${program.name} done`,
        () => (faultLog?.waived ? world.elapsedMs >= lastHeal() + livenessMs : program.done(view) && world.elapsedMs >= lastHeal()),
        (program.timeoutMs ?? 60_000) + (faultLog ? faultLog.plan.lastHealMs + triggersSpanMs(triggers) + livenessMs : 0),
      );
    } catch (err) {
      if (!(err instanceof SimulationTimeout)) throw err;
      problems.push(err.message);
    }
    await world.run({ untilMs: world.elapsedMs + SETTLE_MS });
    // a chart that does not drain or stop in time fails the run (a finding), with the rest of it kept
    const bounded = async (what: string, promise: Promise<unknown>): Promise<boolean> => {
      try {
        await settle(what, promise);
        return true;
      } catch (err) {
        if (!(err instanceof SimulationTimeout)) throw err;
        problems.push(err.message);
        return false;
      }
    };
    for (const [name, c] of charts) {
      await bounded(`${name} draining`, c.drained());
      stats[name] = c.networkStats();
    }
    finishing = true;
    const stopping = new Set(charts.keys());
    const stopped = await bounded('the charts stopping', Promise.all([...charts].map(([name, c]) => c.stop({ leave: true }).then(() => void stopping.delete(name)))));
    if (!stopped) problems.push(`still stopping: ${[...stopping].map((n) => `${n} (process ${processOf.get(n) ?? n})`).join(', ')}`);
    await world.run({ untilMs: world.elapsedMs + 300 }); // the monitor's last lines (closeRun waits 300 ms too)
    await bounded('the monitor stopping', monitor.stop({ leave: true }));
    virtualMs = world.elapsedMs;
    faultLogOut = faultLog;
    for (const [name, names] of processesOf) {
      const total: SimFlowCounters = { publishedWhileBlocked: 0, channelsOpenedWhileBlocked: 0 };
      for (const p of names) {
        const f = world.process(p).flow;
        if (!f) continue;
        total.publishedWhileBlocked += f.publishedWhileBlocked;
        total.channelsOpenedWhileBlocked += f.channelsOpenedWhileBlocked;
      }
      flow[name] = total;
    }
    const refused = refusedCalls()[0];
    if (refused) throw refused;
  } finally {
    for (const env of switched) setRegressions(env, []);
    restore();
  }

  const delivered = deliveredFrom(records);
  const run: ProgramRun = { reports, delivered };
  if (!faultLogOut?.waived) problems.push(...program.invariant(run));
  const hash = runHash({ program: program.name, seed, virtualMs, records, reports, ...(faultLogOut ? { faults: faultLogOut.records } : {}) });
  const result: SimulationResult = {
    program: program.name,
    seed,
    node: process.version,
    hash,
    pass: problems.length === 0,
    problems,
    virtualMs,
    records,
    lines,
    reports,
    delivered,
    stats,
    flow,
    warnings,
    hosts,
    chartHosts: Object.fromEntries(program.charts.map((c) => [c.name, c.host])),
    ...(faultLogOut ? { faults: faultLogOut } : {}),
  };
  if (options.out) {
    const { check } = options.evidence!.write(result, options.out);
    result.out = options.out;
    result.logCheck = { ok: check.ok, problems: check.problems };
    if (!check.ok) {
      result.pass = false;
      result.problems.push(...check.problems.map((p) => `log check: ${p}`));
    }
  }
  return result;
}

class SimulationTimeout extends Error {}

/** A plan of exactly `faults` (sorted by start), as planFaults gives one. */
function scheduledPlan(faults: readonly Fault[]): FaultPlan {
  const sorted = faults.map((f) => ({ ...f })).sort((a, b) => a.at - b.at);
  return { kinds: [...new Set(sorted.map((f) => f.kind))], faults: sorted, lastHealMs: sorted.length > 0 ? Math.max(...sorted.map((f) => f.at + f.durationMs)) : 0 };
}

/** sha256 (hex) over the canonical JSON (keys sorted, no spaces) of `value`. */
export function runHash(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}

