// The Testbed: one scenario run as an object. It brings hosts up, starts instances (ours or
// your own chart programs), injects and heals faults (the fault catalogue, bound to the run),
// waits for conditions, checks, and writes logs/<run>/summary.json. testbed() opens one;
// runScenario plays a scenario definition (runner.ts's Scenario) in one. The command line
// of a scenario script is script.ts; miros-rabbitmq/scenario (api.ts) exports both.
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { UnsupportedError } from '../cluster/errors.ts';
import { openCluster } from '../cluster/index.ts';
import { type FaultKind, faultSpec } from '../faults/catalogue.ts';
import { faultsInForce, injectFault } from '../faults/in-force.ts';
import type { FaultRecord } from '../faults/record.ts';
import type { FaultsLine } from '../log/fault-bands.ts';
import { FAULTS_JSONL } from '../log/records.ts';
import type { Command as InstanceCommand } from '../instances/common.ts';
import { sleep } from '../util/wait.ts';
import { startBrokers, stopBroker } from './brokers.ts';
import { type Instance, type InstanceSpec, type Run, type RunOptions, type RunResult, type Scenario, closeRun, finishRun, openRun, readLog } from './runner.ts';
import { check as checkOf, type CheckResult } from './summary.ts';

export interface TestbedOptions extends Partial<Omit<RunOptions, 'nodes' | 'timeoutMs'>> {
  /** Hosts (brokers) the run uses, default 3. */
  nodes?: number;
  /** The default of outcome()'s timeout, ms (default 60 s). */
  timeoutMs?: number;
  /** timeoutMs was asked for (--timeout): it wins over a definition's own in play(). */
  timeoutGiven?: boolean;
}

/** Host refs: a node name ('n2') or its 0-based index in cluster.json (as InstanceSpec.broker). */
export type HostRef = string | number;

/** The faults of ops/faults, bound to this run's cluster (and to its instances for kill/restart). */
export interface BoundFaults {
  /** Any kind of the fault catalogue (ops/faults/catalogue.ts), by name, with its arguments: inject('latency', 'n2', 200). */
  inject(kind: FaultKind, ...args: (HostRef | number)[]): Promise<FaultRecord>;
  /** The faults in force in this run's cluster (injected, not yet undone). */
  inForce(): FaultRecord[];
  killBroker(host: HostRef): Promise<FaultRecord>;
  pauseBroker(host: HostRef): Promise<FaultRecord>;
  resumeBroker(host: HostRef): Promise<FaultRecord>;
  /** Stops the broker (SIGTERM) and starts it again with its data; resolves once it is healthy. */
  restartBroker(host: HostRef): Promise<FaultRecord>;
  partition(a: HostRef, b: HostRef): Promise<FaultRecord>;
  isolate(host: HostRef): Promise<FaultRecord>;
  /** Adds ms (± jitterMs) to every round trip between the host and the others (the toxic proxy; netns and docker). */
  latency(host: HostRef, ms: number, jitterMs?: number): Promise<FaultRecord>;
  /** Paces each direction of the host's AMQP paths to kbitPerS. */
  bandwidth(host: HostRef, kbitPerS: number): Promise<FaultRecord>;
  /** No data moves on the host's AMQP paths; connections stay open. */
  stall(host: HostRef): Promise<FaultRecord>;
  /** Every connection on the host's AMQP paths is reset, new ones too. */
  resetPeer(host: HostRef): Promise<FaultRecord>;
  /** No args: every cut and toxic; one: that host's; two: that pair's cut. */
  heal(a?: HostRef, b?: HostRef): Promise<FaultRecord>;
  /** SIGKILL to an instance; restartInstance starts it again under the same name. */
  killInstance(name: string): Promise<void>;
  restartInstance(name: string): Promise<void>;
}

type Condition = () => boolean;

export class Testbed {
  readonly checks: CheckResult[] = [];
  private readonly figures: Record<string, unknown> = {};
  private readonly reports: string[] = [];
  private readonly t0 = Date.now();
  private closing: Promise<void> | undefined;
  readonly fault: BoundFaults;
  /** outcome()'s default timeout, ms. */
  readonly timeoutMs: number;
  private readonly timeoutGiven: boolean;

  constructor(
    readonly run: Run,
    opts: { timeoutMs?: number; timeoutGiven?: boolean } = {},
  ) {
    this.timeoutMs = opts.timeoutMs ?? 60_000;
    this.timeoutGiven = opts.timeoutGiven ?? false;
    const o = { dir: run.dir, instances: run };
    const ref = (h: HostRef) => (typeof h === 'number' ? this.hosts[h] ?? `n${h + 1}` : h);
    // every fault the script injects is a line of the run's faults.jsonl: the log check reads
    // its band (a kill's missing closing record, what was sent meanwhile) as expected, not lost
    const inject = async (kind: FaultKind, ...args: (string | number)[]) => {
      const rec = await injectFault(kind, args, o);
      this.appendFaultsLine(rec);
      return rec;
    };
    this.fault = {
      // a node parameter takes a HostRef (a 0-based index too); the others are passed as they are
      inject: (kind, ...args) => inject(kind, ...args.map((a, i) => (faultSpec(kind)?.params[i]?.kind === 'node' ? ref(a) : a))),
      inForce: () => faultsInForce(run.dir).faults,
      killBroker: (h) => inject('kill-broker', ref(h)),
      pauseBroker: (h) => inject('pause-broker', ref(h)),
      resumeBroker: (h) => inject('resume-broker', ref(h)),
      restartBroker: (h) => inject('restart-broker', ref(h)),
      partition: (a, b) => inject('partition', ref(a), ref(b)),
      isolate: (h) => inject('isolate', ref(h)),
      latency: (h, ms, jitterMs) => inject('latency', ref(h), ms, ...(jitterMs === undefined ? [] : [jitterMs])),
      bandwidth: (h, kbitPerS) => inject('bandwidth', ref(h), kbitPerS),
      stall: (h) => inject('stall', ref(h)),
      resetPeer: (h) => inject('reset-peer', ref(h)),
      heal: (a, b) => inject('heal', ...[a, b].filter((x): x is HostRef => x !== undefined).map(ref)),
      killInstance: async (name) => void (await inject('kill-instance', name)),
      restartInstance: async (name) => void (await inject('restart-instance', name)),
    };
  }

  /** The cluster state dir (for `$\`mirosnet cluster status --dir ${t.dir}\``). */
  get dir(): string {
    return this.run.dir;
  }
  /** Where this run's logs, distributed.log and summary.json go. */
  get logDir(): string {
    return this.run.logDir;
  }
  /** Node names, node 1 first. */
  get hosts(): string[] {
    return this.run.cluster.nodes.map((n) => n.name);
  }
  /** The hosts the run was asked for (--nodes). */
  get nodes(): number {
    return this.run.nodes;
  }
  /** The run's id: unique routing keys and instance names use it. */
  get id(): string {
    return this.run.id;
  }
  get instances(): Instance[] {
    return this.run.instances;
  }
  /** distributed.log so far, in memory (the monitor's lines). */
  get distributed(): string[] {
    return this.run.distributed;
  }
  /** Where the backend runs things: local, netns or docker. */
  get backend(): string {
    return this.run.handle.backend.kind;
  }

  /** A line on the run's output ("[name] line"). */
  log(line: string): void {
    this.run.log(line);
  }

  instance(name: string): Instance {
    return this.run.get(name);
  }

  /** Adds an instance without starting it (startInstance(name) later, e.g. after its broker is up). */
  add(spec: InstanceSpec): Instance {
    return this.run.add(spec);
  }

  /**
   * Starts an instance on host `broker` (0-based) and resolves once it is READY. `program`:
   * one of ours (peer, ring, chaos, archer, beacon) or the absolute path of your own chart
   * program (runInstance from miros-rabbitmq/testbed reads its config and speaks the protocol).
   */
  async start(spec: InstanceSpec): Promise<Instance> {
    const inst = this.run.add(spec);
    await this.run.start(spec.name);
    return inst;
  }

  /** Starts an instance added earlier; resolves once it is READY. */
  async startInstance(name: string): Promise<Instance> {
    await this.run.start(name);
    return this.run.get(name);
  }

  /** Starts them all at once; resolves once every one is READY. */
  async startAll(specs: InstanceSpec[]): Promise<Instance[]> {
    const started = await Promise.all(specs.map((s) => this.start(s)));
    this.log(`all ${started.length} instances READY: GO`);
    return started;
  }

  /** A control command to the named instances (default: every running one). */
  send(command: InstanceCommand, names?: string[]): void {
    this.run.send(command, names);
  }

  /**
   * Brings at least `count` hosts up (starting stopped ones, never removing any) and resolves
   * once they are healthy; instances started afterwards see them. Returns the node names.
   */
  async up(count: number): Promise<string[]> {
    const file = await startBrokers(this.dir, count, (l) => this.log(`cluster: ${l}`));
    this.run.cluster = file;
    this.run.handle = await openCluster({ dir: this.dir, log: (l) => this.log(`cluster: ${l}`) });
    return this.hosts;
  }

  /** Stops host `index`'s broker cleanly (SIGTERM) and waits until it is gone; false if it was not running. */
  down(index: number): Promise<boolean> {
    return stopBroker(this.dir, index);
  }

  /**
   * Resolves once `condition` holds. It is checked now and again whenever something happens
   * in the run (an instance line or exit, a distributed.log line): no polling. Throws after
   * `timeoutMs`, naming `what`.
   */
  async waitFor(what: string, condition: Condition, timeoutMs = 30_000): Promise<void> {
    if (!(await this.holds(condition, timeoutMs))) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
  }

  /**
   * Waits for the scenario's outcome (as waitFor, default timeout: the scenario's --timeout).
   * On a timeout it adds the failing check "outcome within the timeout" and resolves false;
   * then the checks say what was missing. `alsoWhen`: re-check when this settles too (a step
   * that ends without an instance line), and stop waiting if it fails.
   */
  async outcome(what: string, condition: Condition, timeoutMs = this.timeoutMs, alsoWhen?: Promise<unknown>): Promise<boolean> {
    const ok = await this.holds(condition, timeoutMs, alsoWhen);
    if (!ok) {
      this.log(`timed out after ${timeoutMs} ms waiting for ${what}`);
      this.check('outcome within the timeout', [`timed out waiting for ${what}`]);
    }
    await sleep(500); // the last snoop lines on their way to the monitor
    return ok;
  }

  private holds(condition: Condition, timeoutMs: number, alsoWhen?: Promise<unknown>): Promise<boolean> {
    if (condition()) return Promise.resolve(true);
    return new Promise<boolean>((resolve, reject) => {
      const changes = this.run.changes;
      const done = (v: boolean | Error) => {
        clearTimeout(timer);
        changes.off('change', onChange);
        if (v instanceof Error) reject(v);
        else resolve(v);
      };
      const evaluate = (last: boolean) => {
        try {
          if (condition()) done(true);
          else if (last) done(false);
        } catch (err) {
          done(err instanceof Error ? err : new Error(String(err)));
        }
      };
      const onChange = () => evaluate(false);
      const timer = setTimeout(() => evaluate(true), timeoutMs);
      changes.on('change', onChange);
      alsoWhen?.then(onChange, (err: unknown) => done(err instanceof Error ? err : new Error(String(err))));
    });
  }

  /** Declares senders whose events may go unreceived (the log check then expects the gap). */
  expectLoss(senders: string[], reason: string): void {
    this.appendFaultsLine({ kind: 'expect-loss', senders, reason, at: new Date().toISOString() });
  }

  /** One line of the run's faults.jsonl (an injected fault or a declared loss): the log check reads them. */
  private appendFaultsLine(line: FaultsLine): void {
    appendFileSync(join(this.logDir, FAULTS_JSONL), `${JSON.stringify(line)}\n`);
  }

  /** A file of the run's log dir ('' if absent), e.g. `${name}.spy.log` after stop(). */
  readLog(file: string): string {
    return readLog(this.run, file);
  }

  /**
   * A check for summary.json: a CheckResult, or a name with its problems (passes with none),
   * a boolean, or a function giving either (an exception in it fails the check, with the error).
   */
  check(result: CheckResult): CheckResult;
  check(name: string, problems: string[] | boolean | (() => string[] | boolean)): CheckResult;
  check(nameOrResult: string | CheckResult, problems?: string[] | boolean | (() => string[] | boolean)): CheckResult {
    let c: CheckResult;
    if (typeof nameOrResult !== 'string') c = nameOrResult;
    else {
      let p: string[] | boolean;
      try {
        p = typeof problems === 'function' ? problems() : problems ?? false;
      } catch (err) {
        p = [`the check threw: ${(err as Error).stack ?? String(err)}`];
      }
      c = checkOf(nameOrResult, typeof p === 'boolean' ? (p ? [] : ['did not hold']) : p);
    }
    this.checks.push(c);
    return c;
  }

  /** A figure for summary.json's metrics. */
  metric(name: string, value: unknown): void {
    this.figures[name] = value;
  }

  /** Lines printed before the summary table (a scenario's own report). */
  report(text: string): void {
    this.reports.push(text);
  }

  /**
   * Stops every instance (asked, then SIGTERM) and the monitor. Their final figures (STATS),
   * spy logs and evidence files are complete after it. finish() calls it if you did not.
   */
  stop(): Promise<void> {
    this.closing ??= closeRun(this.run);
    return this.closing;
  }

  /** stop(), then the exit and log checks, the summary table and summary.json. */
  async result(): Promise<RunResult> {
    await this.stop();
    if (this.checks.length === 0) this.check('the script made at least one check', false);
    return finishRun(this.run, [...this.checks], {
      seconds: (Date.now() - this.t0) / 1000,
      timedOut: this.checks.some((c) => c.name === 'outcome within the timeout'),
      report: this.reports.join('\n') || undefined,
      metrics: this.figures,
    });
  }

  /** As result(), resolving to the exit status: 0 pass, 1 fail. */
  async finish(): Promise<number> {
    return (await this.result()).pass ? 0 : 1;
  }

  /**
   * Runs a scenario definition (ops/scenario/runner.ts's Scenario: instances, go, done,
   * checks, metrics, report) inside this testbed: starts its instances, drives them, waits for
   * done (re-checked as the run changes and when go ends), then after stop() registers its
   * checks, metrics and report. The chaos scenario is one.
   */
  async play(sc: Scenario): Promise<void> {
    const brokers = sc.brokers?.(this.nodes) ?? this.nodes;
    if (this.run.cluster.nodes.length < brokers) this.log(`the scenario grows the cluster to ${brokers} nodes itself`);
    for (const spec of sc.instances({ nodes: this.nodes, run: this.id, cluster: this.run.cluster })) this.run.add(spec);
    await Promise.all(this.instances.filter((i) => !i.spec.late).map((i) => this.run.start(i.name)));
    this.log(`all ${this.instances.filter((i) => i.ready).length} instances READY: GO`);
    const going = (sc.go ?? (async (r: Run) => r.send({ cmd: 'go' })))(this.run);
    going.catch(() => undefined); // awaited below; outcome() stops waiting when it fails
    await this.outcome(`${sc.name}: done`, () => sc.done(this.run), this.timeoutGiven ? this.timeoutMs : sc.timeoutMs ?? this.timeoutMs, going);
    await going; // its error: the check "scenario ran" fails and the definition's checks are left out
    await this.stop();
    const own = <T>(what: string, f: () => T): T | undefined => {
      try {
        return f();
      } catch (err) {
        this.check(`scenario ${what}`, [(err as Error).stack ?? String(err)]);
        return undefined;
      }
    };
    for (const c of own('checks ran', () => sc.checks(this.run)) ?? []) this.check(c);
    const report = sc.report ? own('report', () => sc.report!(this.run)) : undefined;
    if (report) this.report(report);
    const metrics = sc.metrics ? own('metrics', () => sc.metrics!(this.run)) : undefined;
    for (const [k, v] of Object.entries(metrics ?? {})) this.metric(k, v);
  }
}

/** Opens a run named `name`: the cluster (brought up if needed), its log dir and monitor. */
export async function testbed(name: string, opts: TestbedOptions = {}): Promise<Testbed> {
  const { timeoutMs, timeoutGiven, ...rest } = opts;
  return new Testbed(await openRun(name, { ...rest, nodes: opts.nodes ?? 3 }), { timeoutMs, timeoutGiven });
}

/** Runs a scenario definition on its own: testbed, play, finish (the result, summary.json written). */
export async function runScenario(sc: Scenario, opts: RunOptions): Promise<RunResult> {
  const t = await testbed(sc.name, { ...opts, timeoutGiven: opts.timeoutMs !== undefined });
  await drive(t, () => t.play(sc));
  return t.result();
}

/** Runs `body`, turning an error into the failing check "scenario ran" (an UnsupportedError is rethrown). Progress every 2 s. */
export async function drive(t: Testbed, body: () => Promise<void>): Promise<void> {
  let last = '';
  const progress = setInterval(() => {
    const line = t.instances.map((i) => `${i.name}:${i.controls.length}`).join(' ');
    if (line !== last && line) t.log(`progress ${line}, distributed.log ${t.distributed.length} lines`);
    last = line;
  }, 2000);
  try {
    await body();
  } catch (err) {
    if (err instanceof UnsupportedError) {
      await t.stop();
      throw err;
    }
    t.check('scenario ran', [(err as Error).message]);
  } finally {
    clearInterval(progress);
  }
}
