// The scenario runner: brings the cluster up if needed, starts a monitor chart (snoop
// spy + trace, no colour) whose lines become distributed.log, runs one process per
// instance on its broker's host (Backend.exec: this machine, its namespace, or a container),
// waits until every one is READY, drives them, waits for the outcome with a timeout, stops
// everything, runs the checks, prints a summary. openRun / closeRun / finishRun are the
// steps; testbed() and scenario() (scripts) and runScenario (definitions), in api.ts, are built on them.
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createWriteStream, mkdirSync, readFileSync, existsSync, writeFileSync, type WriteStream } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { createInterface } from 'node:readline';
import { NetworkedActiveObject, ReturnStatus, generateKey, type NetworkStats } from '../../runtime/index.ts';
import { type ClusterFile, type ClusterHandle, type HostProcess, defaultDir, openCluster, readClusterFile, status, up } from '../cluster/index.ts';
import { UnsupportedError } from '../cluster/errors.ts';
import { netOptions, type InstanceConfig } from '../instances/common.ts';
import { type ControlLine, type InstanceCommand, type InstanceEmits, type InstanceTag, isTag, parseControl } from '../instances/protocol.ts';
import { clientTlsFiles } from '../tls/client-settings.ts';
import { compiledModule } from '../package-root.ts';
import { sleep, until, within } from '../util/wait.ts';
import { writeRunEvidence } from '../log/run-evidence.ts';
import { openJsonlSink } from '../logs/jsonl-sink.ts';
import { formatSummary, summaryJson, type CheckResult } from './summary.ts';
import { serveInstanceControl } from '../instances/instance-control.ts';
import { startObserve, writeInstanceTargets } from '../observe/prometheus.ts';

export interface InstanceSpec {
  name: string;
  /**
   * Program in ops/instances (without extension; the compiled dist/ops/instances/<program>.js
   * runs), or the absolute path of your own chart program (a .js/.mjs file that reads its
   * InstanceConfig from $MIROS_INSTANCE and speaks the control protocol: runInstance does both;
   * local and netns only: a container cannot see this machine's files).
   */
  program: string;
  /** Index of its broker in cluster.json (0-based). */
  broker: number;
  /** Overrides of the config the runner builds (keys, routing keys, hosts, snoop, params…). */
  config?: Partial<InstanceConfig>;
  /** Started by the scenario itself (run.start(name)), not before GO. */
  late?: boolean;
}

export interface Scenario {
  name: string;
  /** Brokers the scenario needs (default: nodes). */
  brokers?(nodes: number): number;
  instances(ctx: { nodes: number; run: string; cluster: ClusterFile }): InstanceSpec[];
  /** Drives the instances once all are READY (default: {"cmd":"go"} to each). */
  go?(run: Run): Promise<void>;
  /** Polled every 50 ms: true once the outcome is in. */
  done(run: Run): boolean;
  checks(run: Run): CheckResult[];
  timeoutMs?: number;
  /** Scenario figures for summary.json's metrics (beside the per-instance ones). */
  metrics?(run: Run): Record<string, unknown>;
  /** Lines printed before the summary (a scenario's own table). */
  report?(run: Run): string;
}

export interface RunOptions {
  nodes: number;
  /** Where brokers and instances run: local (this machine), netns (each instance in its broker's namespace), docker (instances in containers of the instance image). */
  backend?: 'local' | 'netns' | 'docker';
  /** Cluster state dir (default: dirname($MIROS_CLUSTER_FILE), else ./.cluster in the current directory). */
  dir?: string;
  /** Where logs/<name>-<timestamp>/ goes (default <cwd>/logs). */
  logsRoot?: string;
  timeoutMs?: number;
  /**
   * Brokers with TLS (the cluster is brought up so; one already up must match). Without it the
   * run follows the cluster: instances use amqps:// whenever cluster.json has `tls`.
   */
  tls?: 'on' | 'only';
  log?: (line: string) => void;
  /** Given to every instance as MIROS_TOPOLOGY; clustered only on a cluster.json that says so. */
  topology?: 'mesh' | 'clustered';
  /** Prometheus (mirosnet observe, started if needed) scrapes the nodes and every instance of the run. */
  observe?: boolean;
}

export interface RunResult {
  name: string;
  pass: boolean;
  checks: CheckResult[];
  logDir: string;
  summary: string;
  seconds: number;
  timedOut: boolean;
}

export class Instance {
  child: HostProcess | undefined;
  /** How many times the scenario killed it (killInstance). */
  kills = 0;
  /** Exits nobody asked for (not stop, not killInstance). */
  crashes = 0;
  private expectExit = false;
  readonly lines: string[] = [];
  readonly stderr: string[] = [];
  readonly controls: ControlLine[] = [];
  stats: NetworkStats | undefined;
  exitCode: number | null | undefined;
  ready = false;
  /** The port its chart serves Prometheus metrics on (READY's metricsPort), if any. */
  metricsPort: number | undefined;
  log: WriteStream | undefined;
  constructor(
    readonly spec: InstanceSpec,
    readonly config: InstanceConfig,
  ) {}
  get name(): string {
    return this.spec.name;
  }
  send(c: InstanceCommand): void {
    if (this.child && this.exitCode === undefined) this.child.stdin.write(`${JSON.stringify(c)}\n`);
  }
  /** The next exit is expected (stop or a scheduled kill): not a crash. */
  expectingExit(): void {
    this.expectExit = true;
  }
  /** Called once per exit: whether it was a crash. */
  exited(code: number): boolean {
    const crash = !this.expectExit && code !== 0;
    if (crash) this.crashes++;
    this.expectExit = false;
    return crash;
  }
  /** The data of every control line of `tag` so far (a tag of the protocol: its type; trusted as the program wrote it). */
  got<T extends InstanceTag>(tag: T): InstanceEmits[T][];
  got(tag: string): unknown[];
  got(tag: string): unknown[] {
    return this.controls.filter((c) => c.tag === tag).map((c) => c.data);
  }
}

export class Run {
  readonly id = randomBytes(3).toString('hex');
  name = 'run';
  /** --observe: told when an instance reports its metrics port; run before and after the instances stop. */
  onMetricsPort: (() => void) | undefined;
  beforeStop: (() => Promise<void>) | undefined;
  afterStop: (() => void) | undefined;
  /** Set by openRun: stops the monitor and closes distributed.log. */
  closeMonitor: (() => Promise<void>) | undefined;
  /** Set by openRun: closes the control socket (instance-control.ts) of `mirosnet fault kill-instance`. */
  closeControl: (() => Promise<void>) | undefined;
  /** Told of every killInstance (the schedule's or `mirosnet fault kill-instance`), after the exit. */
  onInstanceKilled: ((inst: Instance) => void) | undefined;
  /** Told of every restartInstance, once the instance is READY again. */
  onInstanceRestarted: ((inst: Instance) => void) | undefined;
  readonly instances: Instance[] = [];
  readonly distributed: string[] = [];
  cluster!: ClusterFile;
  topology: 'mesh' | 'clustered' | undefined;
  /** The cluster with its backend: where instances run and faults act. */
  handle!: ClusterHandle;
  dir!: string;
  logDir!: string;
  monitorName!: string;
  readonly keys = { mesh: generateKey(), trace: generateKey(), spy: generateKey() };
  /** 'change' on every instance line, control line and exit, and every distributed.log line: what waits listen to. */
  readonly changes = new EventEmitter().setMaxListeners(0);
  private readonly exits = new Map<string, Promise<void>>();
  constructor(readonly nodes: number, readonly log: (line: string) => void) {}

  /** The configuration an instance gets: its broker, every broker, credentials, the run's keys and routing keys, then spec.config over it. */
  configFor(spec: InstanceSpec): InstanceConfig {
    const nodes = this.cluster.nodes;
    const host = nodes[spec.broker]?.host ?? `127.0.0.${11 + spec.broker}`;
    return {
      name: spec.name,
      host,
      tls: clientTlsFiles(this.cluster, host),
      hosts: nodes.slice(0, this.nodes).map((n) => n.host),
      user: this.cluster.credentials.user,
      password: this.cluster.credentials.password,
      meshKey: this.keys.mesh,
      traceKey: this.keys.trace,
      spyKey: this.keys.spy,
      tx: `mesh.${this.id}`,
      rx: `mesh.${this.id}`,
      spyFile: join(this.logDir, `${spec.name}.spy.log`),
      evidenceFile: join(this.logDir, `${spec.name}.jsonl`),
      ...spec.config,
    };
  }

  /** Adds an instance (not started yet). */
  add(spec: InstanceSpec): Instance {
    if (this.instances.some((i) => i.name === spec.name)) throw new Error(`an instance ${spec.name} is already in run ${this.id}`);
    const inst = new Instance(spec, this.configFor(spec));
    this.instances.push(inst);
    return inst;
  }

  get(name: string): Instance {
    const i = this.instances.find((x) => x.name === name);
    if (!i) throw new Error(`no instance ${name}`);
    return i;
  }

  /** Spawns an instance on its broker's host (Backend.exec) and resolves once it printed READY. */
  async start(name: string, timeoutMs = 30_000, prefix?: string[]): Promise<void> {
    const inst = this.get(name);
    const h = this.handle;
    const node = h.file.nodes[inst.spec.broker] ?? h.file.nodes[0];
    const program = isAbsolute(inst.spec.program) ? { file: inst.spec.program } : { module: `dist/ops/instances/${inst.spec.program}.js` };
    if (!existsSync(compiledModule(`ops/instances/${inst.spec.program}`)) && !isAbsolute(inst.spec.program)) {
      throw new Error(`no compiled instance program ${inst.spec.program} (dist/ops/instances/${inst.spec.program}.js): npm run build`);
    }
    inst.log ??= createWriteStream(join(this.logDir, `${name}.log`));
    inst.ready = false;
    inst.exitCode = undefined;
    const child = await h.backend.exec(h.options, node, program, {
      env: { MIROS_INSTANCE: JSON.stringify(inst.config), ...(this.topology ? { MIROS_TOPOLOGY: this.topology } : {}) },
      name,
      mounts: [this.logDir, h.dir],
      ...(prefix ? { prefix } : {}),
    });
    inst.child = child;
    this.log(`started ${name} (pid ${child.pid}) on ${inst.config.host}${h.backend.kind === 'local' ? '' : ` (${h.backend.kind})`}`);
    let readyOrExited!: () => void;
    const started = new Promise<void>((r) => (readyOrExited = r));
    createInterface({ input: child.stdout }).on('line', (line) => {
      inst.log!.write(`${line}\n`);
      const c = parseControl(line);
      if (c) {
        inst.controls.push(c);
        this.onControl?.(inst, c);
        if (c.tag === 'READY') {
          inst.ready = true;
          inst.metricsPort = isTag(c, 'READY') && typeof c.data.metricsPort === 'number' ? c.data.metricsPort : undefined;
          this.onMetricsPort?.();
          readyOrExited();
        }
        if (c.tag === 'STATS') inst.stats = c.data as NetworkStats;
      } else if (line.startsWith('@@')) return; // a control line cut by a kill
      else inst.lines.push(line);
      this.changes.emit('change');
    });
    createInterface({ input: child.stderr }).on('line', (line) => {
      inst.log!.write(`[stderr] ${line}\n`);
      inst.stderr.push(line);
    });
    this.exits.set(
      name,
      child.exited.then((code) => {
        inst.exitCode = code;
        if (inst.exited(code)) this.log(`${name} exited by itself (${code}): ${inst.stderr.slice(-2).join(' | ')}`);
        readyOrExited();
        this.changes.emit('change');
      }),
    );
    await within(timeoutMs, started);
    if (!inst.ready) throw new Error(`${name} exited (${inst.exitCode}) before READY: ${inst.stderr.slice(-5).join(' | ')}`);
  }

  /** Called for every control line of every instance (chaos accounting). */
  onControl: ((inst: Instance, line: ControlLine) => void) | undefined;

  /** killInstance: SIGKILL (or SIGTERM: a clean stop) to the instance's program; resolves once it has exited. Undo: restartInstance. */
  async killInstance(name: string, signal: 'SIGKILL' | 'SIGTERM' = 'SIGKILL'): Promise<void> {
    const inst = this.get(name);
    if (!inst.child || inst.exitCode !== undefined) throw new Error(`killInstance: ${name} is not running`);
    inst.expectingExit();
    inst.kills++;
    inst.child.kill(signal);
    await this.exits.get(name);
    this.onInstanceKilled?.(inst);
  }

  /** restartInstance: starts it again under the same name, on the same host, with the same config. */
  async restartInstance(name: string, how: { timeoutMs?: number; prefix?: string[] } = {}): Promise<void> {
    const inst = this.get(name);
    if (inst.child && inst.exitCode === undefined) await this.killInstance(name);
    await this.start(name, how.timeoutMs, how.prefix);
    this.onInstanceRestarted?.(inst);
  }

  send(c: InstanceCommand, names = this.instances.filter((i) => i.child).map((i) => i.name)): void {
    for (const n of names) this.get(n).send(c);
  }

  /**
   * The run is over: asks every running instance to leave (stop and delete its queues, so the
   * next run on this testbed finds none of this run's events); SIGTERM (a stop that keeps
   * them) whatever has not exited after 10 s.
   */
  async stopAll(): Promise<void> {
    this.send({ cmd: 'leave' });
    const all = Promise.all(this.exits.values());
    const late = setTimeout(() => {
      for (const i of this.instances) if (i.child && i.exitCode === undefined) i.child.kill('SIGTERM');
    }, 10_000);
    await all;
    clearTimeout(late);
    for (const i of this.instances) i.log?.end();
  }

  /** Lines of distributed.log (monitor's own lines left out). */
  snoop(): string[] {
    return this.distributed.filter((l) => !l.includes(this.monitorName));
  }
}

/** Brings the cluster up unless `count` healthy nodes are running; never shrinks it. */
export async function ensureCluster(dir: string, count: number, backend: 'local' | 'netns' | 'docker', log: (l: string) => void, tls?: 'on' | 'only'): Promise<ClusterFile> {
  const s = await status({ dir });
  const healthy = s.up && s.nodes.length >= count && s.nodes.every((n) => n.healthy);
  // a TLS run on a cluster without it (or in another mode): up() refuses, naming the clash
  if (!healthy || (tls !== undefined && readClusterFile(dir)?.tls?.mode !== tls)) {
    log(`cluster: bringing ${Math.max(count, s.nodes.length)} nodes up in ${dir}${tls ? ` with TLS ${tls}` : ''}`);
    await up({ dir, backend, nodes: Math.max(count, s.nodes.length), tls, log: (l) => log(`cluster: ${l}`) });
  }
  return readClusterFile(dir)!;
}

export function clusterDir(opts: { dir?: string }): string {
  if (opts.dir) return opts.dir;
  if (process.env.MIROS_CLUSTER_FILE) return dirname(process.env.MIROS_CLUSTER_FILE);
  return defaultDir();
}

function stamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').replace(/\..*/, '');
}

function idle(chart: NetworkedActiveObject): ReturnStatus {
  return chart.super(chart.top);
}

/**
 * Opens a run: the cluster (brought up if needed), its log dir logs/<name>-<time>-<id>/ and
 * the monitor chart whose snoop lines become distributed.log. Instances are added with
 * run.add(spec) and started with run.start(name); closeRun and finishRun end it.
 */
export async function openRun(name: string, opts: RunOptions): Promise<Run> {
  const log = opts.log ?? ((l: string) => process.stdout.write(`[${name}] ${l}\n`));
  const run = new Run(opts.nodes, log);
  run.name = name;
  run.dir = clusterDir(opts);
  run.cluster = await ensureCluster(run.dir, opts.nodes, opts.backend ?? 'local', log, opts.tls);
  run.handle = await openCluster({ dir: run.dir, log: (l) => log(`cluster: ${l}`) });
  if (opts.topology && opts.topology !== run.cluster.topology) {
    throw new UnsupportedError(`--topology ${opts.topology} on a ${run.cluster.topology} cluster in ${run.dir}`, `bring the cluster up with --topology ${opts.topology}, or leave --topology out`);
  }
  run.topology = opts.topology;
  run.logDir = join(opts.logsRoot ?? join(process.cwd(), 'logs'), `${name}-${stamp()}-${run.id}`);
  mkdirSync(run.logDir, { recursive: true });
  const tlsNote = run.cluster.tls ? `, TLS ${run.cluster.tls.mode}${run.cluster.tls.mutual ? ' (mutual)' : ''}` : '';
  log(`run ${run.id}: ${opts.nodes} nodes${tlsNote} (${run.handle.backend.kind}), logs in ${run.logDir}`);

  // the monitor: a networked chart on broker 0 that is never driven (its own routing key);
  // what it prints is distributed.log
  const dlog = createWriteStream(join(run.logDir, 'distributed.log'), { mode: 0o600 }); // payloads in the clear
  const records = openJsonlSink(join(run.logDir, 'distributed.jsonl'));
  run.monitorName = `monitor-${run.id}`;
  const routing = `monitor.${run.id}`;
  const monitor = new NetworkedActiveObject(run.monitorName, {
    ...netOptions(run.configFor({ name: run.monitorName, program: 'monitor', broker: 0, config: { tx: routing, rx: routing, evidenceFile: undefined } })),
    onSnoopRecord: (record) => records.write(record),
    output: (line) => {
      run.distributed.push(line);
      dlog.write(`${line}\n`);
      run.changes.emit('change');
    },
    onWarning: (m) => log(`monitor: ${m}`),
  });
  monitor.enableSnoopSpyNoColor();
  monitor.enableSnoopTraceNoColor();
  run.closeMonitor = async () => {
    await monitor.stop();
    await new Promise((r) => dlog.end(r));
    await records.close();
  };
  await monitor.startAt(idle);
  run.closeControl = await serveInstanceControl(run, run.dir);
  if (opts.observe) await observeRun(run);
  return run;
}

/**
 * --observe: Prometheus for the cluster of run.dir (started if needed), and the run's instances as
 * its file_sd targets while they report a metrics port. Sets run.beforeStop (each instance scraped
 * once more) and run.afterStop (its targets removed): whoever stops the instances calls both.
 */
export async function observeRun(run: Run): Promise<void> {
  const observer = await startObserve(run.dir, { log: run.log });
  run.log(`observe: Prometheus at ${observer.url} scrapes the nodes and this run's instances`);
  const targets = () => run.instances.filter((i) => i.metricsPort !== undefined && i.exitCode === undefined).map((i) => ({ name: i.name, host: i.config.host, port: i.metricsPort! }));
  run.onMetricsPort = () => writeInstanceTargets(run.dir, run.id, targets());
  run.beforeStop = async () => {
    // every instance scraped once more before it stops, so its final counts are in Prometheus
    const want = new Set(targets().map((t) => `${t.host}:${t.port}`));
    const since = Date.now() / 1000;
    const scraped = await until(async () => {
      try {
        const query = encodeURIComponent(`timestamp(up{job="miros",run="${run.id}"} == 1) > ${since}`);
        const body = (await (await fetch(`${observer.url}/api/v1/query?query=${query}`)).json()) as { data?: { result?: Array<{ metric: { instance?: string } }> } };
        const seen = new Set((body.data?.result ?? []).map((r) => r.metric.instance));
        return [...want].every((t) => seen.has(t));
      } catch {
        return false;
      }
    }, 30_000, 500);
    if (!scraped) run.log(`observe: not every instance was scraped within 30 s (see ${observer.url}/targets)`);
  };
  run.afterStop = () => writeInstanceTargets(run.dir, run.id, []);
}

/** Stops every instance (asked, then SIGTERM) and the monitor. */
export async function closeRun(run: Run): Promise<void> {
  await run.closeControl?.();
  run.closeControl = undefined;
  await run.beforeStop?.();
  await run.stopAll();
  run.afterStop?.();
  await sleep(300);
  await run.closeMonitor?.();
  run.closeMonitor = undefined;
}

/** After closeRun: the exit checks, the summary table and summary.json. */
export function finishRun(
  run: Run,
  checks: CheckResult[],
  o: { seconds: number; timedOut?: boolean; report?: string; metrics?: Record<string, unknown> },
): RunResult {
  for (const i of run.instances) {
    if (i.child && i.exitCode !== 0 && i.exitCode !== undefined) checks.push({ name: `${i.name} exited cleanly`, pass: false, reasons: [`exit ${i.exitCode}`, ...i.stderr.slice(-3)] });
  }
  const evidence = writeRunEvidence(run.logDir); // log check + run.html
  checks.push(evidence.asCheck);
  const pass = checks.every((c) => c.pass);
  const summary = [o.report, formatSummary(run.name, run, checks, pass, o.seconds)].filter(Boolean).join('\n');
  writeFileSync(join(run.logDir, 'summary.json'), `${JSON.stringify(summaryJson(run.name, run, run.handle.backend.kind, checks, pass, o.seconds, o.metrics), null, 2)}\n`);
  for (const line of summary.split('\n')) run.log(line);
  run.log(`diagram: ${evidence.html}`);
  return { name: run.name, pass, checks, logDir: run.logDir, summary, seconds: o.seconds, timedOut: o.timedOut ?? false };
}

/** The contents of a file in the run's log dir ('' if absent). */
export function readLog(run: Run, file: string): string {
  const p = join(run.logDir, file);
  return existsSync(p) ? readFileSync(p, 'utf8') : '';
}
