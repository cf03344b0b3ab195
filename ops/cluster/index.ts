// The testbed's lifecycle: up / down / status / logs / partition / heal.
// One function per CLI command; the Backend (backend.ts: local, netns, docker) does the
// work, this file picks it from state.json and holds the dir lock.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Backend } from './backend.ts';
import { type NodeRecord, readClusterFile, readState, writeClusterFile } from './cluster-file.ts';
import { ClusterError } from './errors.ts';
import { SETTINGS, dirArg, indexOf, knownNames, stored } from './known.ts';
import { localBackend } from './local.ts';
import { withLock } from './lock.ts';
import { CREDENTIALS, type NodeSpec, clusterNode, clusterTls, defaultDir, nodeSpec, parseBackend, parseTlsMode, resolveOptions } from './options.ts';
import { findBeam, logTail, tailFile } from './rabbit.ts';
import type { BackendKind, ClusterFile, ClusterNode, ClusterOptions, ClusterStatus, ResolvedOptions, StartedCluster, StoppedCluster } from './types.ts';
import { stopToxicOnDown } from './toxic-state.ts';
import { stopObserver } from './observer-process.ts';

export type * from './types.ts';
export { ClusterError } from './errors.ts';
export { clusterFilePath, readClusterFile } from './cluster-file.ts';
export { ensureRabbitmq } from './install.ts';
export { formatTable } from './table.ts';
export { CREDENTIALS, DEFAULT_DIR, defaultDir } from './options.ts';
export { opsAdmin, type OpsAdmin } from './admin.ts'; // the ops side's broker administrator (management API calls)
export type { Backend, ExecOptions, HostProcess, NodeSignal, Primitive, Program, Support } from './backend.ts';

/** The backend of `kind`; docker is loaded on first use (dockerode is an optional peer dependency). */
export async function backendFor(kind: BackendKind): Promise<Backend> {
  if (kind === 'netns') return (await import('./netns.ts')).netnsBackend;
  if (kind === 'local') return localBackend;
  try {
    return (await import('./docker.ts')).dockerBackend;
  } catch (err) {
    const e = err as { code?: unknown; message?: unknown };
    if ((e?.code === 'ERR_MODULE_NOT_FOUND' || e?.code === 'MODULE_NOT_FOUND') && /['"]dockerode['"]/.test(String(e.message))) {
      throw new ClusterError('the docker backend needs the optional package dockerode', 'npm install dockerode');
    }
    throw err;
  }
}

class Started implements StartedCluster {
  constructor(
    readonly file: ClusterFile,
    readonly dir: string,
    private readonly log: (line: string) => void,
  ) {}
  get backend() {
    return this.file.backend;
  }
  get nodes() {
    return this.file.nodes;
  }
  get credentials() {
    return this.file.credentials;
  }
  urls(): string[] {
    return this.file.nodes.map((n) => n.amqpUrl);
  }
  managementUrls(): string[] {
    return this.file.nodes.map((n) => n.managementUrl);
  }
  node(nameOrIndex: string | number): ClusterNode {
    const found = this.file.nodes.find((n) => n.name === nameOrIndex || n.index === Number(nameOrIndex) || n.erlangNode === nameOrIndex);
    if (!found) throw new ClusterError(`no node '${nameOrIndex}' in this cluster`, `nodes: ${this.file.nodes.map((n) => n.name).join(', ')}`);
    return found;
  }
  stop(): Promise<StoppedCluster> {
    return down({ dir: this.dir, log: this.log });
  }
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}


/**
 * Brings N nodes up (idempotent: healthy nodes are kept, dead ones restarted,
 * missing ones added, extra ones stopped) and writes cluster.json.
 */
export async function up(opts: ClusterOptions = {}): Promise<StartedCluster> {
  const first = resolveOptions(opts);
  const log = first.log;
  return withLock(first.dir, log, async () => {
    let state = readState(first.dir);
    if (state) {
      const old = resolveOptions({ dir: first.dir, log }, stored(state));
      const oldBackend = await backendFor(state.backend);
      const alive = (await oldBackend.status(old, state, readClusterFile(first.dir))).nodes.some((n) => n.state !== 'down');
      if (alive) {
        const want = resolveOptions(opts, stored(state));
        const tlsClash =
          (opts.tls !== undefined && parseTlsMode(opts.tls) !== (state.settings.tls ?? 'off')) ||
          (opts.tlsMutual !== undefined && opts.tlsMutual !== (state.settings.tlsMutual ?? false));
        const clash =
          want.backend !== state.backend ? 'backend'
          : opts.topology !== undefined && opts.topology !== (state.settings.topology ?? 'mesh') ? 'topology'
          : (SETTINGS.find((k) => opts[k] !== undefined && opts[k] !== state!.settings[k]) ?? (tlsClash ? 'TLS setting' : undefined));
        if (clash) {
          throw new ClusterError(`a ${state.backend} cluster is already up in ${first.dir} with a different ${clash}`, `take it down first: mirosnet cluster down${dirArg(first.dir)}`);
        }
      } else if (state.backend !== (opts.backend ?? state.backend)) {
        await oldBackend.down(old, state, readClusterFile(first.dir), { purge: false, removeImages: false }); // leftovers of a dead cluster of another kind
        state = undefined;
      }
    }
    const o = resolveOptions({ ...opts, backend: opts.backend ?? state?.backend }, stored(state));
    const backend = await backendFor(o.backend);
    const previous = readClusterFile(o.dir);
    let file = await backend.up(o, state);
    if (previous && previous.backend === file.backend && previous.topology === file.topology && JSON.stringify(previous.nodes) === JSON.stringify(file.nodes)) {
      file = writeClusterFile(o.dir, { ...file, createdAt: previous.createdAt }); // nothing changed: same cluster
    }
    return new Started(file, o.dir, log);
  });
}

export interface DownOptions extends Pick<ClusterOptions, 'dir' | 'backend' | 'log'> {
  /** Every backend: also delete the nodes' data, logs and config, and the testbed's records (cookie, epmd logs, faults in force). */
  purge?: boolean;
  /** Docker: also remove the broker image. */
  removeImages?: boolean;
}

/** Stops every node recorded in `dir` (in parallel) and removes what the backend made. */
export async function down(opts: DownOptions = {}): Promise<StoppedCluster> {
  const dir = resolve(opts.dir ?? defaultDir());
  const log = opts.log ?? ((l: string) => process.stderr.write(l + '\n'));
  return withLock(dir, log, async () => {
    const state = readState(dir);
    const file = readClusterFile(dir);
    const kind = state?.backend ?? file?.backend ?? parseBackend(opts.backend);
    const o = resolveOptions({ dir, backend: kind, log }, stored(state));
    // a toxic's proxies (recorded in toxic-state.ts) would outlive the namespaces they sit in
    const stopped = await stopToxicOnDown(dir);
    if (stopped) log(stopped);
    // a Prometheus that `mirosnet observe` started scrapes these nodes: it goes with them
    if (await stopObserver(dir)) log('down: observe (Prometheus) stopped');
    return (await backendFor(kind)).down(o, state, file, { purge: opts.purge ?? false, removeImages: opts.removeImages ?? false });
  });
}

export interface StatusOptions extends Pick<ClusterOptions, 'dir' | 'log'> {}

/** Live state of every node: process, link (netns), AMQP port and management API. */
export async function status(opts: StatusOptions = {}): Promise<ClusterStatus> {
  const dir = resolve(opts.dir ?? defaultDir());
  const state = readState(dir);
  const file = readClusterFile(dir);
  if (!state && !file) return { dir, up: false, nodes: [] };
  const kind = state?.backend ?? file!.backend;
  return (await backendFor(kind)).status(resolveOptions({ dir, backend: kind, log: opts.log }, stored(state)), state, file);
}

/** Resolves 'n2', '2', 'n2@localhost', 'rabbit@10.77.0.12' or an address to a node spec. */
function resolveNode(o: ResolvedOptions, names: string[], node: string | number): NodeSpec {
  return pickNode(
    names.map((name) => nodeSpec(o, indexOf(name, o.namePrefix)!)),
    node,
    o.dir,
  );
}

/** What names a node: 'n2', 2, its Erlang name, its address or its namespace. */
type NodeRef = Pick<NodeLocation, 'name' | 'index' | 'erlangNode' | 'host' | 'ns'>;

/** The node `ref` names among `nodes`, or a ClusterError that lists them. */
export function pickNode<T extends NodeRef>(nodes: T[], ref: string | number, dir: string): T {
  const found = nodes.find((n) => [n.name, String(n.index), n.erlangNode, n.host, n.ns].includes(String(ref)));
  if (!found) throw new ClusterError(`no node '${ref}' in ${dir}`, nodes.length ? `nodes: ${nodes.map((n) => n.name).join(', ')}` : `no cluster is up: mirosnet cluster up${dirArg(dir)}`);
  return found;
}

function context(dir?: string) {
  const d = resolve(dir ?? defaultDir());
  const state = readState(d);
  const file = readClusterFile(d);
  const o = resolveOptions({ dir: d, backend: state?.backend ?? file?.backend, log: () => {} }, stored(state));
  return { o, state, names: knownNames(o, state, file) };
}

export interface LogsOptions {
  dir?: string;
  /** Last N lines (default 100; 0 = whole file). */
  lines?: number;
}

/** A node's own log (its tail), and the file it comes from. */
export function logs(node: string | number, opts: LogsOptions = {}): { file: string; text: string } {
  const { o, names } = context(opts.dir);
  const spec = resolveNode(o, names, node);
  const lines = opts.lines ?? 100;
  if (!existsSync(spec.logFile)) return { file: spec.logFile, text: logTail(spec, lines || 100_000) };
  return { file: spec.logFile, text: tailFile(spec.logFile, lines || Number.MAX_SAFE_INTEGER) };
}

async function netnsContext(node: string | number, dir: string | undefined, verb: string) {
  const { o, state, names } = context(dir);
  if (state?.backend !== 'netns') {
    throw new ClusterError(
      `${verb} needs the netns backend, but ${state ? `the cluster in ${o.dir} is ${state.backend}` : `no cluster is up in ${o.dir}`}`,
      'start one as root: mirosnet cluster up --backend netns',
    );
  }
  const { netnsHost } = await import('./netns.ts');
  return { o, host: netnsHost, spec: resolveNode(o, names, node) };
}

/** netns: cuts the host off (its link goes down): others get EHOSTUNREACH. */
export async function partition(node: string | number, opts: { dir?: string } = {}): Promise<void> {
  const { o, host, spec } = await netnsContext(node, opts.dir, 'partition');
  await host.setLink!(o, spec, false);
}

/** netns: brings the host's link back up. */
export async function heal(node: string | number, opts: { dir?: string } = {}): Promise<void> {
  const { o, host, spec } = await netnsContext(node, opts.dir, 'heal');
  await host.setLink!(o, spec, true);
}

/** One node as the faults see it (ops/faults): where it runs and its live beam.smp, if any. */
export interface NodeLocation {
  name: string;
  index: number;
  host: string;
  erlangNode: string;
  /** netns backend: the namespace of its host. */
  ns?: string;
  /** The node's beam.smp, when it runs. */
  beam?: number;
}

/** The cluster recorded in `dir` for the faults: its backend, the bridge address (netns) and every node's location. */
export function locateNodes(opts: { dir?: string } = {}): { dir: string; backend?: BackendKind; machine?: string; nodes: NodeLocation[] } {
  const { o, state, names } = context(opts.dir);
  const file = readClusterFile(o.dir);
  const backend = state?.backend ?? file?.backend;
  if (backend === 'docker') return { dir: o.dir, backend, nodes: [] }; // its containers: docker.ts
  const nodes = names.map((name): NodeLocation => {
    const spec = nodeSpec(o, indexOf(name, o.namePrefix)!);
    const rec: NodeRecord = { ...state?.nodes[name] };
    rec.pid ??= file?.nodes.find((n) => n.name === name)?.pid;
    return { name, index: spec.index, host: spec.host, erlangNode: spec.erlangNode, ns: spec.ns, beam: findBeam(spec, rec) };
  });
  const machine = backend === 'netns' ? `${o.addressBase.split('.').slice(0, 3).join('.')}.1` : undefined;
  return { dir: o.dir, backend, machine, nodes };
}

/** `node` ('n2', 2, its Erlang name, address or namespace) among `nodes`, or a ClusterError naming them. */
export function locateNode(node: string | number, opts: { dir?: string } = {}): { dir: string; backend?: BackendKind; machine?: string; node: NodeLocation; nodes: NodeLocation[] } {
  const all = locateNodes(opts);
  return { ...all, node: pickNode(all.nodes, node, all.dir) };
}

/** A cluster that is up, with its backend: what faults and scenarios act through. */
export interface ClusterHandle {
  readonly dir: string;
  readonly options: ResolvedOptions;
  readonly backend: Backend;
  readonly file: ClusterFile;
  /** 'n2', 2, its Erlang name, address, namespace or container. */
  node(ref: string | number): ClusterNode;
}

/** The cluster recorded in `dir`, or a ClusterError saying how to start one. */
export async function openCluster(opts: { dir?: string; log?: (line: string) => void } = {}): Promise<ClusterHandle> {
  const dir = resolve(opts.dir ?? defaultDir());
  const state = readState(dir);
  const recorded = readClusterFile(dir);
  if (!recorded && !state) throw new ClusterError(`no cluster is up in ${dir}`, `start one: mirosnet cluster up${dirArg(dir)}`);
  const options = resolveOptions({ dir, backend: state?.backend ?? recorded?.backend, log: opts.log ?? (() => {}) }, stored(state));
  // a cluster whose up failed half-way has state.json only: its nodes from there
  const file: ClusterFile = recorded ?? {
    version: 2, backend: options.backend, topology: options.topology, createdAt: '', credentials: { ...CREDENTIALS }, toxics: { proxy: false, netem: false },
    tls: clusterTls(options),
    nodes: knownNames(options, state, undefined).map((n) => clusterNode(nodeSpec(options, indexOf(n, options.namePrefix)!), state?.nodes[n]?.pid ?? 0, options.tls)),
  };
  const backend = await backendFor(options.backend);
  return {
    dir,
    options,
    backend,
    file,
    node: (ref) => {
      const found = file.nodes.find((n) => [n.name, String(n.index), n.erlangNode, n.host, n.namespace, n.container].includes(String(ref)));
      if (!found) throw new ClusterError(`no node '${ref}' in ${dir}`, `nodes: ${file.nodes.map((n) => n.name).join(', ')}`);
      return found;
    },
  };
}
