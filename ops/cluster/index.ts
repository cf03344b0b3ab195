// The testbed's lifecycle: up / down / status / logs / partition / heal.
// One function per CLI command; the backend (local.ts, netns.ts) does the
// process and network plumbing, this file the bookkeeping they share.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Backend } from './backend.ts';
import {
  type NodeRecord,
  type StateFile,
  readClusterFile,
  readState,
  removeClusterFile,
  removeState,
  writeClusterFile,
  writeState,
} from './cluster-file.ts';
import { ClusterError } from './errors.ts';
import { checkNode, nodeHealth } from './health.ts';
import { formCluster, startNodes } from './form.ts';
import { join as joinCluster, leave } from './join.ts';
import { withMembership } from './membership.ts';
import { ensureRabbitmq } from './install.ts';
import { localBackend } from './local.ts';
import { withLock } from './lock.ts';
import {
  CREDENTIALS,
  type NodeSpec,
  clusterNode,
  caFileOf,
  clusterTls,
  defaultDir,
  nodeSpec,
  parseBackend,
  parseTlsMode,
  resolveOptions,
} from './options.ts';
import { initTls } from '../tls/certificates.ts';
import { rssMb } from './process.ts';
import { findBeam, logTail, stopServer, tailFile, waitReady } from './rabbit.ts';
import type {
  BackendKind,
  ClusterFile,
  ClusterNode,
  ClusterOptions,
  ClusterStatus,
  NodeStatus,
  ResolvedOptions,
  StartedCluster,
  StoppedCluster,
} from './types.ts';

export type * from './types.ts';
export { ClusterError } from './errors.ts';
export { clusterFilePath, readClusterFile } from './cluster-file.ts';
export { ensureRabbitmq } from './install.ts';
export { formatTable } from './table.ts';
export { CREDENTIALS, DEFAULT_DIR, defaultDir } from './options.ts';

const SETTINGS = ['addressBase', 'namePrefix', 'distPortBase', 'epmdPort', 'nsPrefix'] as const;

/** ' --dir X' for hints, when X is not the default dir. */
const dirArg = (dir: string) => (dir === defaultDir() ? '' : ` --dir ${dir}`);

async function backendFor(kind: BackendKind): Promise<Backend> {
  if (kind === 'docker') throw new Error('the docker backend has its own lifecycle (docker.ts)');
  if (kind === 'netns') return (await import('./netns.ts')).netnsBackend;
  return localBackend;
}

function stored(state: StateFile | undefined): Partial<ResolvedOptions> {
  return state ? { ...state.settings, backend: state.backend } : {};
}

function settingsOf(o: ResolvedOptions): StateFile['settings'] {
  return { topology: o.topology, addressBase: o.addressBase, namePrefix: o.namePrefix, distPortBase: o.distPortBase, epmdPort: o.epmdPort, nsPrefix: o.nsPrefix, erlArgs: o.erlArgs, nodes: o.nodes, tls: o.tls, tlsMutual: o.tlsMutual, tlsDir: o.tlsDir };
}

function indexOf(name: string, prefix: string): number | undefined {
  const m = new RegExp(`^${prefix}(\\d+)$`).exec(name);
  return m ? Number(m[1]) : undefined;
}

/** Node names recorded in state.json or cluster.json, or with a directory in `dir`. */
function knownNames(o: ResolvedOptions, state: StateFile | undefined, file: ClusterFile | undefined): string[] {
  const names = new Set<string>([...Object.keys(state?.nodes ?? {}), ...(file?.nodes.map((n) => n.name) ?? [])]);
  if (existsSync(o.dir)) {
    for (const entry of readdirSync(o.dir, { withFileTypes: true })) {
      if (entry.isDirectory() && indexOf(entry.name, o.namePrefix) !== undefined) names.add(entry.name);
    }
  }
  return [...names].filter((n) => indexOf(n, o.namePrefix) !== undefined).sort((a, b) => indexOf(a, o.namePrefix)! - indexOf(b, o.namePrefix)!);
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


/** The docker backend, loaded on first use: dockerode is an optional peer dependency. */
async function dockerBackend(): Promise<typeof import('./docker.ts')> {
  try {
    return await import('./docker.ts');
  } catch (err) {
    const e = err as { code?: unknown; message?: unknown };
    if ((e?.code === 'ERR_MODULE_NOT_FOUND' || e?.code === 'MODULE_NOT_FOUND') && /['"]dockerode['"]/.test(String(e.message))) {
      throw new ClusterError('the docker backend needs the optional package dockerode', 'npm install dockerode');
    }
    throw err;
  }
}

/**
 * Brings N nodes up (idempotent: healthy nodes are kept, dead ones restarted,
 * missing ones added, extra ones stopped) and writes cluster.json.
 */
export async function up(opts: ClusterOptions = {}): Promise<StartedCluster> {
  const first = resolveOptions(opts);
  const log = first.log;
  if (first.backend === 'docker' || readState(first.dir)?.backend === 'docker') {
    if (first.tls !== 'off') throw new ClusterError('the docker backend has no TLS yet', 'use --backend local or netns for --tls');
    const { dockerUp } = await dockerBackend();
    return withLock(first.dir, log, async () => {
      const state = readState(first.dir);
      if (state && state.backend !== 'docker' && knownNames(resolveOptions({ dir: first.dir, log }, stored(state)), state, undefined).length) {
        throw new ClusterError(`a ${state.backend} cluster is recorded in ${first.dir}`, `take it down first: mirosnet cluster down${dirArg(first.dir)}`);
      }
      const o = resolveOptions({ ...opts, backend: 'docker' }, state?.backend === 'docker' ? stored(state) : {});
      return new Started(await dockerUp(o), o.dir, log);
    });
  }
  if (first.backend === 'netns' && process.getuid?.() !== 0) {
    throw new ClusterError('the netns backend needs root (it creates network namespaces, a bridge and veth links)', 'run it as root, or use --backend local');
  }
  await ensureRabbitmq({ log, netns: first.backend === 'netns' });
  return withLock(first.dir, log, async () => {
    let state = readState(first.dir);
    if (state) {
      const old = resolveOptions({ dir: first.dir, log }, stored(state));
      const alive = knownNames(old, state, undefined).some((n) => findBeam(nodeSpec(old, indexOf(n, old.namePrefix)!), state!.nodes[n] ?? {}));
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
          throw new ClusterError(
            `a ${state.backend} cluster is already up in ${first.dir} with a different ${clash}`,
            `take it down first: mirosnet cluster down${dirArg(first.dir)}`,
          );
        }
      } else {
        await (await backendFor(state.backend)).teardown(old, state); // leftovers of a dead cluster
        removeState(first.dir);
        state = undefined;
      }
    }
    const o = resolveOptions({ ...opts, backend: opts.backend ?? state?.backend }, stored(state));
    const backend = await backendFor(o.backend);
    const st: StateFile = state ?? { backend: backend.kind, settings: settingsOf(o), nodes: {} };
    st.settings = settingsOf(o);
    await backend.prepare(o, st);
    writeState(o.dir, st);

    const wanted = Array.from({ length: o.nodes }, (_, i) => nodeSpec(o, i + 1));
    if (o.tls !== 'off') await initTls({ dir: o.tlsDir, hosts: wanted.map((s) => s.host), log }); // keeps what is there
    const extra = Object.keys(st.nodes).filter((n) => !wanted.some((s) => s.name === n));
    if (o.topology === 'clustered') {
      // one at a time, highest first: each leaves a cluster the others still form
      for (const name of [...extra].reverse()) {
        const spec = nodeSpec(o, indexOf(name, o.namePrefix)!);
        await leave(o, spec, wanted[0], findBeam(spec, st.nodes[name]) !== undefined);
      }
    }
    await Promise.all(
      extra.map(async (name) => {
        const spec = nodeSpec(o, indexOf(name, o.namePrefix)!);
        await stopServer(spec, st.nodes[name]);
        await backend.removeNode?.(o, spec, st.nodes[name]);
        delete st.nodes[name];
        log(`${name}  stopped (cluster shrinks to ${o.nodes})`);
      }),
    );

    const previous = readClusterFile(o.dir);
    const t0 = Date.now();
    const results = await startNodes(o, wanted, (spec) => ensureNode(o, backend, st, spec));
    writeState(o.dir, st);
    const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [{ spec: wanted[i], err: r.reason as unknown }] : []));
    if (failed.length) {
      removeClusterFile(o.dir);
      const details = failed.map(({ spec, err }) => (err instanceof ClusterError ? `${err.message}\n${err.details ?? ''}` : `${spec.name}: ${String(err)}`)).join('\n\n');
      throw new ClusterError(
        `${failed.length} of ${wanted.length} nodes failed to start: ${failed.map((f) => f.spec.name).join(', ')}`,
        `full logs: mirosnet cluster logs ${failed[0].spec.name}${dirArg(o.dir)}; clean up: mirosnet cluster down${dirArg(o.dir)}`,
        details,
      );
    }
    const cluster = o.topology === 'clustered' ? await formCluster(o, wanted, (node, seed) => joinCluster(o, node, seed), t0) : undefined;
    const nodes = wanted.map((spec) => clusterNode(spec, st.nodes[spec.name].pid!, o.tls));
    const unchanged = previous && previous.backend === o.backend && previous.topology === o.topology && JSON.stringify(previous.nodes) === JSON.stringify(nodes);
    const file = writeClusterFile(o.dir, {
      backend: backend.kind,
      topology: o.topology,
      createdAt: unchanged ? previous.createdAt : new Date().toISOString(),
      credentials: { ...CREDENTIALS },
      tls: clusterTls(o),
      ...(cluster ? { cluster } : {}),
      nodes,
    });
    return new Started(file, o.dir, log);
  });
}

async function ensureNode(o: ResolvedOptions, backend: Backend, st: StateFile, spec: NodeSpec): Promise<void> {
  const rec: NodeRecord = (st.nodes[spec.name] ??= {});
  const beam = findBeam(spec, rec);
  if (beam) {
    rec.pid = beam;
    const h = await checkNode(o, spec.host, spec.erlangNode);
    if (h.healthy) {
      o.log(`${spec.name}  already up (pid ${beam})`);
      return;
    }
    o.log(`${spec.name}  running (pid ${beam}) but not healthy yet: ${h.detail}; waiting`);
    try {
      await waitReady(o, spec, rec, o.startTimeoutMs);
    } catch (err) {
      await stopServer(spec, rec);
      throw err;
    }
    o.log(`${spec.name}  ready (pid ${rec.pid})`);
    return;
  }
  await stopServer(spec, rec); // leftovers of a node that died
  const t0 = Date.now();
  o.log(`${spec.name}  starting ${spec.erlangNode} on ${spec.host}`);
  rec.wrapperPid = await backend.start(o, spec, rec);
  writeState(o.dir, st);
  try {
    await waitReady(o, spec, rec, o.startTimeoutMs);
  } catch (err) {
    await stopServer(spec, rec);
    throw err;
  }
  o.log(`${spec.name}  ready in ${((Date.now() - t0) / 1000).toFixed(1)} s (pid ${rec.pid})`);
}

export interface DownOptions extends Pick<ClusterOptions, 'dir' | 'backend' | 'log'> {
  /** Also delete the nodes' data, logs and config. */
  purge?: boolean;
}

/** Stops every node recorded in `dir` (in parallel) and removes what the backend made. */
export async function down(opts: DownOptions = {}): Promise<StoppedCluster> {
  const dir = resolve(opts.dir ?? defaultDir());
  const log = opts.log ?? ((l: string) => process.stderr.write(l + '\n'));
  return withLock(dir, log, async () => {
    const state = readState(dir);
    const file = readClusterFile(dir);
    const kind = state?.backend ?? file?.backend ?? parseBackend(opts.backend);
    if (kind === 'docker') {
      const { dockerDown } = await dockerBackend();
      return dockerDown(resolveOptions({ dir, backend: kind, log }, stored(state)), opts.purge);
    }
    const backend = await backendFor(kind);
    const o = resolveOptions({ dir, backend: kind, log }, stored(state));
    const names = knownNames(o, state, file);
    const stopped: string[] = [];
    await Promise.all(
      names.map(async (name) => {
        const spec = nodeSpec(o, indexOf(name, o.namePrefix)!);
        const rec: NodeRecord = { ...state?.nodes[name] };
        rec.pid ??= file?.nodes.find((n) => n.name === name)?.pid;
        const beam = findBeam(spec, rec);
        await stopServer(spec, rec);
        await backend.removeNode?.(o, spec, rec);
        if (beam) log(`${name}  stopped (pid ${beam})`);
        if (beam || state?.nodes[name] || file?.nodes.some((n) => n.name === name)) stopped.push(name);
      }),
    );
    await backend.teardown(o, state);
    removeClusterFile(dir);
    removeState(dir);
    if (opts.purge) {
      for (const name of names) rmSync(join(dir, name), { recursive: true, force: true });
      for (const f of ['.erlang.cookie', 'epmd.log']) rmSync(join(dir, f), { force: true });
    }
    return { dir, backend: backend.kind, nodes: names.filter((n) => stopped.includes(n)), stoppedAt: new Date().toISOString() };
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
  if (kind === 'docker') {
    const { dockerStatus } = await dockerBackend();
    return dockerStatus(resolveOptions({ dir, backend: kind, log: opts.log }, stored(state)), file);
  }
  const backend = await backendFor(kind);
  const o = resolveOptions({ dir, backend: kind, log: opts.log }, stored(state));
  const nodes: ClusterNode[] =
    file?.nodes ?? knownNames(o, state, undefined).map((n) => clusterNode(nodeSpec(o, indexOf(n, o.namePrefix)!), state?.nodes[n]?.pid ?? 0, o.tls));
  const statuses = await Promise.all(
    nodes.map(async (n): Promise<NodeStatus> => {
      const spec = nodeSpec(o, n.index);
      const beam = findBeam(spec, { ...state?.nodes[n.name], pid: n.pid });
      if (!beam) return { node: n, state: 'down', healthy: false, detail: `process ${n.pid || '?'} is gone` };
      const node = { ...n, pid: beam };
      if (await backend.partitioned?.(o, spec)) return { node, state: 'partitioned', healthy: false, detail: `link down; mirosnet cluster heal ${n.name}${dirArg(dir)}`, rssMb: rssMb(beam) };
      const caFile = file?.tls?.caFile ?? caFileOf(o.tlsDir);
      const https = n.managementUrl.startsWith('https:') ? { caFile } : undefined;
      const h = await nodeHealth(n.host, n.erlangNode, n.amqpPort, n.managementPort, https);
      return withMembership(file, { node, state: h.healthy ? 'healthy' : 'unhealthy', healthy: h.healthy, detail: h.detail, rssMb: rssMb(beam) });
    }),
  );
  return { dir, backend: kind, topology: file?.topology, ...(file?.cluster ? { cluster: file.cluster } : {}), up: true, nodes: statuses };
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
  const backend = await backendFor('netns');
  return { o, backend, spec: resolveNode(o, names, node) };
}

/** netns: cuts the host off (its link goes down): others get EHOSTUNREACH. */
export async function partition(node: string | number, opts: { dir?: string } = {}): Promise<void> {
  const { o, backend, spec } = await netnsContext(node, opts.dir, 'partition');
  await backend.setLink!(o, spec, false);
}

/** netns: brings the host's link back up. */
export async function heal(node: string | number, opts: { dir?: string } = {}): Promise<void> {
  const { o, backend, spec } = await netnsContext(node, opts.dir, 'heal');
  await backend.setLink!(o, spec, true);
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
