// The docker backend: N RabbitMQ containers (compose/rabbitmq.local.Dockerfile) on a
// user-defined bridge network with fixed addresses (node i = addressBase + i - 1,
// default 10.78.0.11, …), driven through dockerode. The host reaches every node
// by its address, so cluster.json has the same shape as with the other backends.
// Mesh: independent brokers; clustered: one Erlang cluster (docker-cluster.ts).
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import Docker from 'dockerode';
import type { Backend, DownHow, HostMember, Primitive, Support } from './backend.ts';
import { spawnHostProcess } from './nodes.ts';
import { writeClusterFile, removeClusterFile, removeState, writeState, type StateFile } from './cluster-file.ts';
import { OpsError } from '../util/errors.ts';
import { ClusterError, UnsupportedError } from './errors.ts';
import { checkNode, nodeHealth } from './health.ts';
import { CREDENTIALS, REPO_ROOT, caFileOf, clusterNode, clusterTls, hostAddress } from './options.ts';
import { childrenOf, rssMb } from './process.ts';
import type { ClusterFile, ClusterNode, ClusterStatus, NodeStatus, ResolvedOptions, StoppedCluster, TlsMode } from './types.ts';
import { sleep } from '../util/wait.ts';
import { CONF_D, bootCommand, dockerCtl, dockerJoin, dockerLeave, memberContainer } from './docker-cluster.ts';
import { tlsBoot } from './docker-tls.ts';
import { usersBoot } from './docker-users.ts';
import { initTls } from '../tls/certificates.ts';
import { formCluster, startNodes } from './form.ts';
import { withMembership } from './membership.ts';
import { purgeTestbedFiles } from './node-data.ts';
import { ensureAdminCredentials } from './admin-secret.ts';
import { settingsOf } from './known.ts';

export const BASE_IMAGE = 'debian:bookworm-slim';
export const RABBIT_IMAGE = 'mirosnet/rabbitmq:local';
/** Every container and network this backend makes carries this label (value: the cluster dir). */
export const LABEL = 'io.mirosnet.cluster';
/** A node container's topology (mesh or clustered) when it was made. */
const TOPOLOGY_LABEL = 'io.mirosnet.topology';
/** The TLS mode a node container was made with (a node of another mode is made afresh). */
const TLS_LABEL = 'io.mirosnet.tls';

export const dockerClient = (): Docker => new Docker(); // DOCKER_HOST, else /var/run/docker.sock

const networkName = (o: Pick<ResolvedOptions, 'nsPrefix'>) => `${o.nsPrefix}-docker`;
const containerName = (o: Pick<ResolvedOptions, 'nsPrefix'>, name: string) => `${o.nsPrefix}-${name}`;
const erlangNode = (name: string) => `rabbit@${name}`;
const subnetOf = (o: ResolvedOptions) => {
  const [a, b, c] = o.addressBase.split('.');
  return { subnet: `${a}.${b}.${c}.0/24`, gateway: `${a}.${b}.${c}.1` };
};

async function engine(d: Docker): Promise<void> {
  try {
    await d.ping();
  } catch (err) {
    throw new ClusterError(
      `no Docker engine answers (${(err as Error).message})`,
      'start dockerd (scripts/ci-docker.sh shows the flags that work here) and set DOCKER_HOST if its socket is not /var/run/docker.sock',
    );
  }
}

const exists = (p: Promise<unknown>) => p.then(() => true, () => false);

/** One event of the build stream (the legacy builder's JSON lines). */
interface BuildEvent {
  stream?: string;
  error?: string;
  errorDetail?: { message?: string };
}

/**
 * Builds the RabbitMQ image (legacy builder, host network for apt; the layer cache makes a
 * rebuild ~1 s). A first build takes minutes, so each "Step i/n" line goes to `log` as it
 * happens; `verbose` (default: MIROSNET_VERBOSE=1, set by `mirosnet cluster up --verbose`) logs every line.
 */
export async function buildRabbitImage(
  d: Docker,
  log: (l: string) => void,
  tag = RABBIT_IMAGE,
  verbose = process.env.MIROSNET_VERBOSE === '1',
): Promise<void> {
  if (!(await exists(d.getImage(BASE_IMAGE).inspect()))) {
    throw new ClusterError(
      `no local ${BASE_IMAGE} image (no registry is used)`,
      `make one: debootstrap --variant=minbase bookworm ROOTFS <mirror> && tar -C ROOTFS -c . | docker import - ${BASE_IMAGE}  (scripts/ci-docker.sh does this)`,
    );
  }
  const t0 = Date.now();
  const stream = await d.buildImage(
    { context: join(REPO_ROOT, 'compose'), src: ['rabbitmq.local.Dockerfile', 'rabbitmq/rabbitmq.conf'] },
    { t: tag, dockerfile: 'rabbitmq.local.Dockerfile', networkmode: 'host', labels: { [LABEL]: 'image' } },
  );
  log(`image ${tag}: building from compose/rabbitmq.local.Dockerfile`);
  let partial = ''; // a stream chunk may end mid-line
  const progress = (e: BuildEvent) => {
    if (typeof e.stream !== 'string') return;
    const lines = (partial + e.stream).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) if (line.trim() && (verbose || line.startsWith('Step '))) log(`  ${line.trimEnd()}`);
  };
  const out: BuildEvent[] = await new Promise((res, rej) =>
    d.modem.followProgress(stream, (err: Error | null, o: BuildEvent[]) => (err ? rej(err) : res(o)), progress),
  );
  const failed = out.find((e) => e.error || e.errorDetail);
  if (failed) {
    const tail = out.map((e) => e.stream ?? '').join('').split('\n').slice(-15).join('\n');
    throw new ClusterError(`building ${tag} failed: ${failed.error ?? failed.errorDetail?.message}`, 'see the build output above', tail);
  }
  const cached = out.filter((e) => /Using cache/.test(e.stream ?? '')).length;
  log(`image ${tag} built in ${((Date.now() - t0) / 1000).toFixed(1)} s${cached ? ` (${cached} cached steps)` : ''}`);
}

async function ensureNetwork(d: Docker, o: ResolvedOptions): Promise<void> {
  const name = networkName(o);
  const { subnet, gateway } = subnetOf(o);
  const found = await d.listNetworks({ filters: { name: [name] } });
  const same = found.find((n) => n.Name === name);
  if (same) {
    if (same.IPAM?.Config?.[0]?.Subnet === subnet) return;
    throw new ClusterError(`docker network ${name} exists with subnet ${same.IPAM?.Config?.[0]?.Subnet}, not ${subnet}`, 'take the cluster down first: mirosnet cluster down --backend docker');
  }
  await d.createNetwork({ Name: name, Driver: 'bridge', CheckDuplicate: true, Labels: { [LABEL]: o.dir }, IPAM: { Driver: 'default', Config: [{ Subnet: subnet, Gateway: gateway }] } });
  o.log(`network ${name} ${subnet} created`);
}

interface Spec {
  name: string;
  index: number;
  host: string;
  container: string;
}

const specOf = (o: ResolvedOptions, index: number): Spec => ({
  name: `${o.namePrefix}${index}`,
  index,
  host: hostAddress(o, index),
  container: containerName(o, `${o.namePrefix}${index}`),
});

/** The container's state, or undefined when there is no such container (404); an engine that does not answer is an error, not "no container". */
export async function inspect(d: Docker, name: string): Promise<Docker.ContainerInspectInfo | undefined> {
  try {
    return await d.getContainer(name).inspect();
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return undefined;
    throw new ClusterError(
      `cannot inspect container ${name}: ${(err as Error).message}`,
      'is the Docker engine running? start dockerd (scripts/ci-docker.sh shows the flags that work here) and set DOCKER_HOST if its socket is not /var/run/docker.sock',
    );
  }
}

async function logTail(d: Docker, name: string, lines = 20): Promise<string> {
  try {
    const buf = (await d.getContainer(name).logs({ stdout: true, stderr: true, tail: lines })) as unknown as Buffer;
    // multiplexed stream: 8-byte frame headers
    let text = '';
    for (let i = 0; i + 8 <= buf.length; ) {
      const len = buf.readUInt32BE(i + 4);
      text += buf.subarray(i + 8, i + 8 + len).toString('utf8');
      i += 8 + len;
    }
    return text;
  } catch {
    return '';
  }
}

async function waitHealthy(d: Docker, o: ResolvedOptions, s: Spec): Promise<void> {
  const deadline = Date.now() + o.startTimeoutMs;
  let last = '';
  for (;;) {
    const h = await checkNode(o, s.host, erlangNode(s.name));
    if (h.healthy) return;
    last = h.detail ?? '';
    const info = await inspect(d, s.container);
    if (!info?.State.Running) {
      throw new ClusterError(`${s.name}: container ${s.container} exited (${info?.State.Status ?? 'gone'}, code ${info?.State.ExitCode ?? '?'})`, `docker logs ${s.container}`, await logTail(d, s.container));
    }
    if (Date.now() > deadline) {
      throw new ClusterError(`${s.name} not healthy after ${o.startTimeoutMs / 1000} s: ${last}`, `docker logs ${s.container}`, await logTail(d, s.container));
    }
    await sleep(500);
  }
}

async function ensureNode(d: Docker, o: ResolvedOptions, s: Spec, members: Spec[]): Promise<number> {
  const info = await inspect(d, s.container);
  const ip = info?.NetworkSettings.Networks[networkName(o)]?.IPAddress;
  if (info?.State.Running && ip === s.host && (await checkNode(o, s.host, erlangNode(s.name))).healthy) {
    o.log(`${s.name}  already up (container ${s.container}, pid ${info.State.Pid})`);
    return info.State.Pid;
  }
  const t0 = Date.now();
  const c = d.getContainer(s.container);
  // another network, or made for the other topology (a clustered member runs its own Cmd): start afresh
  const stale =
    info &&
    (info.HostConfig.NetworkMode !== networkName(o) || (info.Config.Labels?.[TOPOLOGY_LABEL] ?? 'mesh') !== o.topology || (info.Config.Labels?.[TLS_LABEL] ?? 'off') !== o.tls);
  if (info && !stale) {
    // stopped (killed), paused or still starting: the same container again, so its queues
    // survive (and a clustered member keeps its data: a blank one with its name would not be let back in)
    if (info.State.Paused) await c.unpause();
    if (!info.State.Running) {
      o.log(`${s.name}  starting container ${s.container} again (data kept)`);
      await c.start();
    }
  } else {
    if (info) await c.remove({ force: true });
    o.log(`${s.name}  starting ${erlangNode(s.name)} in container ${s.container} on ${s.host}`);
    const member = o.topology === 'clustered' ? memberContainer(o, members.map((m) => ({ ...m, erlangNode: erlangNode(m.name) }))) : undefined;
    const tls = tlsBoot(o, s.host, CONF_D);
    const users = usersBoot(o, CONF_D);
    const boot = bootCommand([...users.setup, ...(member?.setup ?? []), ...(tls?.setup ?? [])]);
    const made = await d.createContainer({
      name: s.container,
      Image: RABBIT_IMAGE,
      Hostname: s.name,
      ...(boot.Cmd ? { Cmd: boot.Cmd } : {}),
      Env: [`RABBITMQ_NODENAME=${erlangNode(s.name)}`, ...(o.erlArgs ? [`RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS=${o.erlArgs}`] : []), ...boot.Env, ...users.env, ...(member?.env ?? []), ...(tls?.env ?? [])],
      Labels: { [LABEL]: o.dir, 'io.mirosnet.node': s.name, [TOPOLOGY_LABEL]: o.topology, [TLS_LABEL]: o.tls },
      HostConfig: { NetworkMode: networkName(o), Init: true, ...(member ? { ExtraHosts: member.extraHosts } : {}) },
      NetworkingConfig: { EndpointsConfig: { [networkName(o)]: { IPAMConfig: { IPv4Address: s.host } } } },
    });
    await made.start();
  }
  await waitHealthy(d, o, s);
  const pid = (await c.inspect()).State.Pid;
  o.log(`${s.name}  ready in ${((Date.now() - t0) / 1000).toFixed(1)} s (container ${s.container}, pid ${pid})`);
  return pid;
}

function toClusterNode(s: Spec, pid: number, tls: TlsMode): ClusterNode {
  // data and log live inside the container (docker exec / docker logs), not on the host
  const where = { dataDir: `${s.container}:/var/lib/rabbitmq/mnesia`, logFile: `${s.container}:stdout` };
  // distPort: the image's RabbitMQ default, which this backend never sets, so it does not know it
  return clusterNode({ ...s, erlangNode: erlangNode(s.name), distPort: null, ...where }, pid, tls);
}

/** RSS of the container's processes (its init and every descendant: beam.smp is a grandchild). */
function treeRssMb(pid: number): number | undefined {
  let total = 0;
  const todo = [pid];
  for (let n = 0; todo.length && n < 200; n++) {
    const p = todo.pop()!;
    total += rssMb(p) ?? 0;
    todo.push(...childrenOf(p));
  }
  return total || undefined;
}

const labelled = (d: Docker, dir: string) => d.listContainers({ all: true, filters: { label: [`${LABEL}=${dir}`] } });

/** up for the docker backend (the caller holds the dir lock). Idempotent like the others. */
export async function dockerUp(o: ResolvedOptions): Promise<ClusterFile> {
  const d = dockerClient();
  await engine(d);
  const st: StateFile = { backend: 'docker', settings: settingsOf(o), bridge: networkName(o), nodes: {} };
  writeState(o.dir, st);
  await buildRabbitImage(d, o.log);
  await ensureNetwork(d, o);
  const wanted = Array.from({ length: o.nodes }, (_, i) => specOf(o, i + 1));
  if (o.tls !== 'off') await initTls({ dir: o.tlsDir, hosts: wanted.map((s) => s.host), log: o.log }); // keeps what is there
  for (const c of await labelled(d, o.dir)) {
    const name = c.Labels['io.mirosnet.node'];
    if (name === undefined) continue; // a program exec started (a scenario's instance), not a node
    if (!wanted.some((w) => w.name === name)) {
      const index = Number(name?.slice(o.namePrefix.length));
      if (o.topology === 'clustered' && c.State === 'running' && Number.isInteger(index)) {
        const member = (x: Spec) => ({ ...x, erlangNode: erlangNode(x.name) });
        await dockerLeave(d, o, member(specOf(o, index)), member(wanted[0]));
      }
      await d.getContainer(c.Id).remove({ force: true });
      o.log(`${name}  removed (cluster shrinks to ${o.nodes})`);
    }
  }
  const t0 = Date.now();
  const results = await startNodes(o, wanted.map((s) => ({ ...s, erlangNode: erlangNode(s.name) })), (s) => ensureNode(d, o, s, wanted));
  const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [{ s: wanted[i], err: r.reason as unknown }] : []));
  if (failed.length) {
    removeClusterFile(o.dir);
    const details = failed.map(({ s, err }) => (err instanceof OpsError ? `${err.message}\n${err.details ?? ''}` : `${s.name}: ${String(err)}`)).join('\n\n');
    throw new ClusterError(`${failed.length} of ${wanted.length} nodes failed to start: ${failed.map((f) => f.s.name).join(', ')}`, 'clean up: mirosnet cluster down --backend docker', details);
  }
  const nodes = wanted.map((s, i) => toClusterNode(s, (results[i] as PromiseFulfilledResult<number>).value, o.tls));
  for (const n of nodes) st.nodes[n.name] = { pid: n.pid };
  writeState(o.dir, st);
  const members = wanted.map((s) => ({ ...s, erlangNode: erlangNode(s.name) }));
  const cluster = o.topology === 'clustered' ? await formCluster(o, members, (node, seed) => dockerJoin(d, o, node, seed), t0) : undefined;
  // what was written: version 2
  const tls = clusterTls(o);
  return writeClusterFile(o.dir, { backend: 'docker', topology: o.topology, createdAt: new Date().toISOString(), credentials: { ...CREDENTIALS }, ...(cluster ? { cluster } : {}), ...(tls ? { tls } : {}), nodes });
}

/** down for the docker backend: removes every container and the network labelled with this dir (the nodes' data goes with the containers); `how.removeImages` also the image, `how.purge` the testbed's files in the dir. */
export async function dockerDown(o: ResolvedOptions, how: DownHow = { purge: false, removeImages: false }): Promise<StoppedCluster> {
  const d = dockerClient();
  await engine(d);
  const stopped: string[] = [];
  await Promise.all(
    (await labelled(d, o.dir)).map(async (c) => {
      const name = c.Labels['io.mirosnet.node'] ?? c.Names[0];
      await d.getContainer(c.Id).remove({ force: true });
      o.log(`${name}  removed (container ${c.Names[0]?.replace(/^\//, '')})`);
      stopped.push(name);
    }),
  );
  for (const n of await d.listNetworks({ filters: { label: [`${LABEL}=${o.dir}`] } })) {
    await d.getNetwork(n.Id).remove();
    o.log(`network ${n.Name} removed`);
  }
  if (how.purge) purgeTestbedFiles(o.dir, Array.from({ length: o.nodes }, (_, i) => `${o.namePrefix}${i + 1}`));
  if (how.removeImages && (await exists(d.getImage(RABBIT_IMAGE).inspect()))) {
    await d.getImage(RABBIT_IMAGE).remove({ force: true });
    o.log(`image ${RABBIT_IMAGE} removed`);
  }
  removeClusterFile(o.dir);
  removeState(o.dir);
  return { dir: o.dir, backend: 'docker', nodes: stopped.sort(), stoppedAt: new Date().toISOString() };
}

/** status for the docker backend: container state, then the same health probe as the other backends. */
export async function dockerStatus(o: ResolvedOptions, file: ClusterFile | undefined): Promise<ClusterStatus> {
  const d = dockerClient();
  const nodes = file?.nodes ?? Array.from({ length: o.nodes }, (_, i) => toClusterNode(specOf(o, i + 1), 0, o.tls));
  const statuses = await Promise.all(
    nodes.map(async (n): Promise<NodeStatus> => {
      const container = containerName(o, n.name);
      const info = await inspect(d, container);
      if (!info?.State.Running) return { node: n, state: 'down', healthy: false, detail: `container ${container} ${info ? info.State.Status : 'is gone'}` };
      const node = { ...n, pid: info.State.Pid };
      const https = n.managementUrl.startsWith('https:') ? { caFile: file?.tls?.caFile ?? caFileOf(o.tlsDir) } : undefined;
      const admin = ensureAdminCredentials(o.dir);
      const h = await nodeHealth(admin, n.host, n.erlangNode, n.amqpPort, n.managementPort, https);
      return withMembership(file, { node, state: h.healthy ? 'healthy' : 'unhealthy', healthy: h.healthy, detail: h.detail, rssMb: treeRssMb(info.State.Pid) }, admin);
    }),
  );
  return { dir: o.dir, backend: 'docker', topology: file?.topology, ...(file?.cluster ? { cluster: file.cluster } : {}), up: true, nodes: statuses };
}

/** The image `exec` runs programs in: compose/instance.local.Dockerfile (the packed package; scripts/compose-local.sh builds it). */
export const INSTANCE_IMAGE = 'mirosnet/instance:local';
/** Where the package is inside the instance image. */
const PACKAGE_IN_IMAGE = '/app/node_modules/miros-rabbitmq';

function docker(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((done) => {
    const child = spawn('docker', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b));
    child.stderr.on('data', (b: Buffer) => (out += b));
    child.on('error', (err) => done({ code: 127, out: err.message }));
    child.on('close', (code) => done({ code: code ?? 1, out }));
  });
}

let execCount = 0;

export const dockerBackend: Backend = {
  kind: 'docker',
  up: (o) => dockerUp(o),
  down: (o, _state, _file, how) => dockerDown(o, how),
  status: (o, _state, file) => dockerStatus(o, file),

  capabilities(): Record<Primitive, Support> {
    const root: Support = process.getuid?.() === 0 ? true : { reason: 'network faults on docker enter the containers\' namespaces with nsenter, which needs root' };
    return { signal: true, restart: true, exec: true, partition: root, isolate: root, toxify: root, clock: { reason: 'the instance image has no faketime' } };
  },

  async brokerPid(o, node) {
    const info = await inspect(dockerClient(), containerName(o, node.name));
    return info?.State.Running ? info.State.Pid : undefined;
  },

  async signal(o, node, sig) {
    const c = dockerClient().getContainer(containerName(o, node.name));
    if (sig === 'SIGSTOP') await c.pause(); // freezes the whole container (epmd too)
    else if (sig === 'SIGCONT') await c.unpause();
    else {
      await c.kill({ signal: sig });
      if (sig === 'SIGKILL') await c.wait();
    }
  },

  async restart(o, node) {
    const d = dockerClient();
    const s = specOf(o, node.index);
    const members = Array.from({ length: o.nodes }, (_, i) => specOf(o, i + 1)); // a clustered member made afresh needs its peers
    const info = await inspect(d, s.container);
    if (info?.State.Paused) await d.getContainer(s.container).unpause();
    if (info?.State.Running) await d.getContainer(s.container).stop({ t: 30 });
    await ensureNode(d, o, s, members); // the same container: data kept
  },

  async rabbitmqctl(o, node, args) {
    return dockerCtl(dockerClient(), { container: containerName(o, node.name), erlangNode: node.erlangNode }, args);
  },

  async exec(o, node, program, opts = {}) {
    if (opts.prefix?.length) throw new UnsupportedError(`${opts.prefix[0]} on the docker backend: the instance image does not have it`, 'use the local or netns backend');
    if (!('module' in program)) throw new UnsupportedError(`docker runs programs from the instance image, not ${program.file}`, 'give a module of the package (dist/...), or use --backend local or netns');
    const name = `${o.nsPrefix}-x${++execCount}-${(opts.name ?? 'exec').replace(/[^a-zA-Z0-9_.-]/g, '_')}`.slice(0, 60);
    const env = Object.keys(opts.env ?? {}).flatMap((k) => ['-e', k]);
    const mounts = (opts.mounts ?? []).flatMap((m) => ['-v', `${m}:${m}`]);
    // as the caller's user: the image's own (miros) could not write into the mounted log dirs
    const user = process.getuid && process.getgid ? ['--user', `${process.getuid()}:${process.getgid()}`] : [];
    const argv = ['run', '-i', '--rm', '--init', '--name', name, '--network', networkName(o), '--label', `${LABEL}=${o.dir}`, '--label', 'io.mirosnet.exec=1', '--label', `io.mirosnet.host=${node.name}`, ...user, ...env, ...mounts, INSTANCE_IMAGE,
      'node', '--enable-source-maps', `${PACKAGE_IN_IMAGE}/${program.module}`, ...(program.args ?? [])];
    // the environment is passed by name with -e: docker reads values from its own env, never from argv logs
    return spawnHostProcess(['docker', ...argv], node.host, { ...process.env, ...opts.env }, (sig = 'SIGTERM') => void docker(['kill', '--signal', sig, name]));
  },

  async inNetns(o, node) {
    if (process.getuid?.() !== 0) throw new UnsupportedError(`entering container ${containerName(o, node.name)}'s network namespace needs root (nsenter)`, 'run as root');
    const pid = await this.brokerPid(o, node);
    if (!pid) throw new ClusterError(`${node.name}: container ${containerName(o, node.name)} is not running`);
    return ['nsenter', `--net=/proc/${pid}/ns/net`];
  },

  async hostMembers(o, node) {
    const broker: HostMember = { enter: await this.inNetns(o, node), address: node.host, label: containerName(o, node.name) };
    const d = dockerClient();
    const execs = await d.listContainers({ filters: { label: [`${LABEL}=${o.dir}`, 'io.mirosnet.exec=1', `io.mirosnet.host=${node.name}`] } });
    const members = await Promise.all(
      execs.map(async (c): Promise<HostMember | undefined> => {
        const info = await inspect(d, c.Id);
        const address = info?.NetworkSettings.Networks[networkName(o)]?.IPAddress;
        if (!info?.State.Running || !address) return undefined;
        return { enter: ['nsenter', `--net=/proc/${info.State.Pid}/ns/net`], address, label: info.Name.replace(/^\//, '') };
      }),
    );
    return [broker, ...members.filter((m): m is HostMember => m !== undefined)];
  },

  machineAddress: (o) => subnetOf(o).gateway,
};
