// The Backend of node processes on this machine (local, netns): the lifecycle they share
// (up / down / status of beam.smp processes, state.json bookkeeping) and the primitives
// signal, restart, exec. What differs per backend is the NodeHost (local.ts, netns.ts).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Backend, DownHow, ExecOptions, HostMember, HostProcess, NodeHost, NodeSignal, Primitive, Program, Support } from './backend.ts';
import { type NodeRecord, type StateFile, readState, removeClusterFile, removeState, writeClusterFile, writeState } from './cluster-file.ts';
import { OpsError } from '../util/errors.ts';
import { ClusterError } from './errors.ts';
import { checkNode, nodeHealth } from './health.ts';
import { formCluster, startNodes } from './form.ts';
import { join as joinCluster, leave, rabbitmqctl } from './join.ts';
import { withMembership } from './membership.ts';
import { markTopology, purgeTestbedFiles, readNodeData, resetNodeData, restartingMembers, staleData } from './node-data.ts';
import { ensureAdminCredentials } from './admin-secret.ts';
import { dirArg, indexOf, knownNames, settingsOf } from './known.ts';
import { ensureRabbitmq } from './install.ts';
import { withLock } from './lock.ts';
import { CREDENTIALS, REPO_ROOT, type NodeSpec, caFileOf, clusterNode, clusterTls, nodeSpec } from './options.ts';
import { initTls } from '../tls/certificates.ts';
import { rssMb, signal as signalPid, waitGone } from './process.ts';
import { findBeam, stopServer, waitReady } from './rabbit.ts';
import type { ClusterFile, ClusterNode, ClusterStatus, NodeStatus, ResolvedOptions, StoppedCluster } from './types.ts';

/** Spawns `argv` with pipes; the HostProcess of what runs. */
export function spawnHostProcess(argv: string[], host: string, env: NodeJS.ProcessEnv, kill?: (sig: NodeJS.Signals) => void): HostProcess {
  const child = spawn(argv[0], argv.slice(1), { env, stdio: ['pipe', 'pipe', 'pipe'] });
  const exited = new Promise<number>((res) => {
    child.on('exit', (code, sig) => res(code ?? (sig ? -1 : 0)));
    child.on('error', () => res(-1));
  });
  if (!child.pid) throw new ClusterError(`could not run ${argv.join(' ')}`, `check that ${argv[0]} is installed`);
  return {
    pid: child.pid,
    host,
    stdin: child.stdin!,
    stdout: child.stdout!,
    stderr: child.stderr!,
    exited,
    kill: kill ?? ((sig: NodeJS.Signals = 'SIGTERM') => signalPid(child.pid!, sig)),
  };
}

/** The argv that runs `program` with this machine's Node from the package root. */
export function nodeArgv(program: Program): string[] {
  const file = 'module' in program ? join(REPO_ROOT, program.module) : program.file;
  return [process.execPath, '--enable-source-maps', file, ...(program.args ?? [])];
}

const specOf = (o: ResolvedOptions, node: ClusterNode): NodeSpec => nodeSpec(o, node.index);

async function ensureNode(o: ResolvedOptions, host: NodeHost, st: StateFile, spec: NodeSpec): Promise<void> {
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
  markTopology(spec.dataDir, o.topology);
  const t0 = Date.now();
  o.log(`${spec.name}  starting ${spec.erlangNode} on ${spec.host}`);
  rec.wrapperPid = await host.start(o, spec, rec);
  writeState(o.dir, st);
  try {
    await waitReady(o, spec, rec, o.startTimeoutMs);
  } catch (err) {
    await stopServer(spec, rec);
    throw err;
  }
  o.log(`${spec.name}  ready in ${((Date.now() - t0) / 1000).toFixed(1)} s (pid ${rec.pid})`);
}

/**
 * Before a testbed whose nodes all stopped starts again: resets the data that would bring back
 * another cluster than the one asked for (node-data.ts), with one line saying so, or, with
 * keepData, refuses and names the command that resets it. A testbed with a node running is
 * left to the live path (leave, join, formCluster). Returns the nodes whose kept data is one
 * cluster: they start together.
 */
function resetStaleData(o: ResolvedOptions, wanted: NodeSpec[], st: StateFile): Set<string> {
  if (wanted.some((spec) => findBeam(spec, st.nodes[spec.name] ?? {}) !== undefined)) return new Set();
  const data = wanted.map((spec) => readNodeData(spec));
  const stale = staleData(o.topology, data);
  if (stale.length && o.keepData) {
    throw new ClusterError(
      `--keep-data: the data of ${stale.map((s) => `${s.name} (${s.reason})`).join(', ')} would not make a ${o.topology} testbed of ${o.nodes}`,
      `reset it: mirosnet cluster down --purge${dirArg(o.dir)}, then up (or up without --keep-data, which resets only those nodes)`,
    );
  }
  for (const s of stale) resetNodeData(wanted.find((spec) => spec.name === s.name)!.dataDir);
  if (stale.length) o.log(`data reset: ${stale.map((s) => `${s.name} (${s.reason})`).join('; ')} — asked for a ${o.topology} testbed of ${o.nodes} (--keep-data refuses instead)`);
  return restartingMembers(data, stale);
}

const UNSUPPORTED_LOCAL = 'local nodes share this machine\'s network stack; use --backend netns (root) or docker';

export function nodeBackend(host: NodeHost): Backend {
  return {
    kind: host.kind,

    async up(o: ResolvedOptions, state: StateFile | undefined): Promise<ClusterFile> {
      if (host.kind === 'netns' && process.getuid?.() !== 0) {
        throw new ClusterError('the netns backend needs root (it creates network namespaces, a bridge and veth links)', 'run it as root, or use --backend local');
      }
      await ensureRabbitmq({ log: o.log, netns: host.kind === 'netns' });
      const st: StateFile = state ?? { backend: host.kind, settings: settingsOf(o), nodes: {} };
      st.settings = settingsOf(o);
      await host.prepare(o, st);
      writeState(o.dir, st);
      const wanted = Array.from({ length: o.nodes }, (_, i) => nodeSpec(o, i + 1));
      if (o.tls !== 'off') await initTls({ dir: o.tlsDir, hosts: wanted.map((s) => s.host), log: o.log }); // keeps what is there
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
          await host.removeNode?.(o, spec, st.nodes[name]);
          delete st.nodes[name];
          o.log(`${name}  stopped (cluster shrinks to ${o.nodes})`);
        }),
      );
      const together = resetStaleData(o, wanted, st);
      const t0 = Date.now();
      const results = await startNodes(o, wanted, (spec) => ensureNode(o, host, st, spec), together);
      writeState(o.dir, st);
      const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [{ spec: wanted[i], err: r.reason as unknown }] : []));
      if (failed.length) {
        removeClusterFile(o.dir);
        const details = failed.map(({ spec, err }) => (err instanceof OpsError ? `${err.message}\n${err.details ?? ''}` : `${spec.name}: ${String(err)}`)).join('\n\n');
        throw new ClusterError(
          `${failed.length} of ${wanted.length} nodes failed to start: ${failed.map((f) => f.spec.name).join(', ')}`,
          `full logs: mirosnet cluster logs ${failed[0].spec.name}${dirArg(o.dir)}; clean up: mirosnet cluster down${dirArg(o.dir)}`,
          details,
        );
      }
      const cluster = o.topology === 'clustered' ? await formCluster(o, wanted, (node, seed) => joinCluster(o, node, seed), t0) : undefined;
      const nodes = wanted.map((spec) => clusterNode(spec, st.nodes[spec.name].pid!, o.tls));
      return writeClusterFile(o.dir, {
        backend: host.kind,
        topology: o.topology,
        createdAt: new Date().toISOString(),
        credentials: { ...CREDENTIALS },
        tls: clusterTls(o),
        ...(cluster ? { cluster } : {}),
        nodes,
      });
    },

    async down(o: ResolvedOptions, state: StateFile | undefined, file: ClusterFile | undefined, how: DownHow): Promise<StoppedCluster> {
      const names = knownNames(o, state, file);
      const stopped: string[] = [];
      await Promise.all(
        names.map(async (name) => {
          const spec = nodeSpec(o, indexOf(name, o.namePrefix)!);
          const rec: NodeRecord = { ...state?.nodes[name] };
          rec.pid ??= file?.nodes.find((n) => n.name === name)?.pid;
          const beam = findBeam(spec, rec);
          await stopServer(spec, rec);
          await host.removeNode?.(o, spec, rec);
          if (beam) o.log(`${name}  stopped (pid ${beam})`);
          if (beam || state?.nodes[name] || file?.nodes.some((n) => n.name === name)) stopped.push(name);
        }),
      );
      await host.teardown(o, state);
      removeClusterFile(o.dir);
      removeState(o.dir);
      if (how.purge) purgeTestbedFiles(o.dir, names);
      if (how.removeImages) o.log(`down: --remove-images: the ${host.kind} backend uses no images`);
      return { dir: o.dir, backend: host.kind, nodes: names.filter((n) => stopped.includes(n)), stoppedAt: new Date().toISOString() };
    },

    async status(o: ResolvedOptions, state: StateFile | undefined, file: ClusterFile | undefined): Promise<ClusterStatus> {
      const nodes: ClusterNode[] = file?.nodes ?? knownNames(o, state, undefined).map((n) => clusterNode(nodeSpec(o, indexOf(n, o.namePrefix)!), state?.nodes[n]?.pid ?? 0, o.tls));
      const statuses = await Promise.all(
        nodes.map(async (n): Promise<NodeStatus> => {
          const spec = nodeSpec(o, n.index);
          const beam = findBeam(spec, { ...state?.nodes[n.name], pid: n.pid });
          if (!beam) return { node: n, state: 'down', healthy: false, detail: `process ${n.pid || '?'} is gone` };
          const node = { ...n, pid: beam };
          if (await host.partitioned?.(o, spec)) return { node, state: 'partitioned', healthy: false, detail: `link down; mirosnet cluster heal ${n.name}${dirArg(o.dir)}`, rssMb: rssMb(beam) };
          const caFile = file?.tls?.caFile ?? caFileOf(o.tlsDir);
          const https = n.managementUrl.startsWith('https:') ? { caFile } : undefined;
          const admin = ensureAdminCredentials(o.dir);
          const h = await nodeHealth(admin, n.host, n.erlangNode, n.amqpPort, n.managementPort, https);
          return withMembership(file, { node, state: h.healthy ? 'healthy' : 'unhealthy', healthy: h.healthy, detail: h.detail, rssMb: rssMb(beam) }, admin);
        }),
      );
      return { dir: o.dir, backend: host.kind, topology: file?.topology, ...(file?.cluster ? { cluster: file.cluster } : {}), up: true, nodes: statuses };
    },

    capabilities(): Record<Primitive, Support> {
      const net: Support = host.kind === 'netns' ? true : { reason: UNSUPPORTED_LOCAL };
      const clock: Support = existsSync('/usr/bin/faketime') ? true : { reason: 'faketime is not installed (apt-get install faketime; mirosnet install-deps --test)' };
      return { signal: true, restart: true, exec: true, partition: net, isolate: net, toxify: net, clock };
    },

    async brokerPid(o: ResolvedOptions, node: ClusterNode): Promise<number | undefined> {
      const state = readState(o.dir);
      return findBeam(specOf(o, node), { ...state?.nodes[node.name], pid: state?.nodes[node.name]?.pid ?? node.pid });
    },

    async signal(o: ResolvedOptions, node: ClusterNode, sig: NodeSignal): Promise<void> {
      const beam = await this.brokerPid(o, node);
      if (!beam) throw new ClusterError(`${node.name}: its broker is not running`, `bring it back: mirosnet fault restart-broker ${node.name}${dirArg(o.dir)}`);
      signalPid(beam, sig);
      if (sig === 'SIGKILL' && !(await waitGone([beam], 10_000))) throw new ClusterError(`${node.name}: beam.smp ${beam} still there 10 s after SIGKILL`);
    },

    async restart(o: ResolvedOptions, node: ClusterNode): Promise<void> {
      await withLock(o.dir, o.log, async () => {
        const st = readState(o.dir);
        if (!st) throw new ClusterError(`no cluster is recorded in ${o.dir}`, `start one: mirosnet cluster up${dirArg(o.dir)}`);
        const spec = specOf(o, node);
        const rec: NodeRecord = (st.nodes[spec.name] ??= {});
        const beam = findBeam(spec, rec);
        if (beam) signalPid(beam, 'SIGCONT'); // a paused node cannot stop
        await stopServer(spec, rec);
        await ensureNode(o, host, st, spec);
        writeState(o.dir, st);
      });
    },

    async exec(o: ResolvedOptions, node: ClusterNode, program: Program, opts: ExecOptions = {}): Promise<HostProcess> {
      const spec = specOf(o, node);
      return spawnHostProcess([...host.wrap(spec), ...(opts.prefix ?? []), ...nodeArgv(program)], node.host, { ...process.env, ...opts.env });
    },

    rabbitmqctl(o: ResolvedOptions, node: ClusterNode, args: string[]): Promise<string> {
      return rabbitmqctl(o, specOf(o, node), args);
    },

    async inNetns(o: ResolvedOptions, node: ClusterNode): Promise<string[]> {
      if (host.kind !== 'netns') throw new ClusterError(`${node.name} has no network namespace of its own (${UNSUPPORTED_LOCAL})`);
      return host.wrap(specOf(o, node));
    },

    async hostMembers(o: ResolvedOptions, node: ClusterNode): Promise<HostMember[]> {
      return [{ enter: await this.inNetns(o, node), address: node.host, label: node.namespace ?? node.name }];
    },

    machineAddress(o: ResolvedOptions): string | undefined {
      return host.kind === 'netns' ? `${o.addressBase.split('.').slice(0, 3).join('.')}.1` : undefined;
    },
  };
}
