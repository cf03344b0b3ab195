// The scenario API for scripts (zx or plain Node): bring hosts up, start instances (ours or
// your own chart programs), inject and heal faults, wait for conditions, check, write the
// summary. A script is the scenario: no registry to edit.
//
//   import { testbed } from 'miros-rabbitmq/testbed';
//   const t = await testbed('ping', { nodes: 2, backend: 'netns' });
//   const a = await t.start({ name: 'a', program: 'peer', broker: 0 });
//   ...
//   process.exitCode = await t.finish();
import * as faults from '../faults/index.ts';
import type { FaultRecord } from '../faults/index.ts';
import { waitFor } from '../util/wait.ts';
import { type Instance, type InstanceSpec, type Run, type RunOptions, closeRun, finishRun, openRun } from './runner.ts';
import { check as checkOf, type CheckResult } from './summary.ts';

export interface TestbedOptions extends Partial<Omit<RunOptions, 'nodes'>> {
  /** Hosts (brokers), default 3. */
  nodes?: number;
}

/** The faults, bound to this run's cluster (and its instances for kill/restart). */
export interface BoundFaults {
  killBroker(node: string | number): Promise<FaultRecord>;
  pauseBroker(node: string | number): Promise<FaultRecord>;
  resumeBroker(node: string | number): Promise<FaultRecord>;
  restartBroker(node: string | number): Promise<FaultRecord>;
  partition(a: string | number, b: string | number): Promise<FaultRecord>;
  isolate(node: string | number): Promise<FaultRecord>;
  /** No args: every cut; one: that host's; two: that pair's. */
  heal(a?: string | number, b?: string | number): Promise<FaultRecord>;
  /** SIGKILL to an instance; restartInstance starts it again under the same name. */
  killInstance(name: string): Promise<void>;
  restartInstance(name: string): Promise<void>;
}

export class Testbed {
  readonly checks: CheckResult[] = [];
  private readonly figures: Record<string, unknown> = {};
  private readonly t0 = Date.now();
  readonly fault: BoundFaults;

  constructor(readonly run: Run) {
    const o = { dir: run.dir };
    this.fault = {
      killBroker: (n) => faults.killBroker(n, o),
      pauseBroker: (n) => faults.pauseBroker(n, o),
      resumeBroker: (n) => faults.resumeBroker(n, o),
      restartBroker: (n) => faults.restartBroker(n, o),
      partition: (a, b) => faults.partition(a, b, o),
      isolate: (n) => faults.isolate(n, o),
      heal: (a, b) => faults.heal(a, b, o),
      killInstance: (name) => run.killInstance(name),
      restartInstance: (name) => run.restartInstance(name),
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
  /** The run's id: unique routing keys and instance names use it. */
  get id(): string {
    return this.run.id;
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

  /** Waits until `condition` holds (checked every 50 ms); throws after `timeoutMs` naming `what`. */
  waitFor(what: string, condition: () => boolean, timeoutMs = 30_000): Promise<void> {
    return waitFor(what, condition, timeoutMs, 50);
  }

  /** A check: passes with no problems (or `true`). */
  check(name: string, problems: string[] | boolean): CheckResult {
    const c = typeof problems === 'boolean' ? checkOf(name, problems ? [] : ['did not hold']) : checkOf(name, problems);
    this.checks.push(c);
    return c;
  }

  /** Figures for summary.json's metrics. */
  metric(name: string, value: unknown): void {
    this.figures[name] = value;
  }

  /** Stops everything, prints the summary, writes summary.json; resolves to the exit status (0 pass, 1 fail). */
  async finish(): Promise<number> {
    await closeRun(this.run);
    if (this.checks.length === 0) this.check('the script made at least one check', false);
    const r = finishRun(this.run, this.checks, { seconds: (Date.now() - this.t0) / 1000, metrics: this.figures });
    return r.pass ? 0 : 1;
  }
}

/** Opens a run named `name`: the cluster (brought up if needed), its log dir and monitor. */
export async function testbed(name: string, opts: TestbedOptions = {}): Promise<Testbed> {
  return new Testbed(await openRun(name, { ...opts, nodes: opts.nodes ?? 3 }));
}
