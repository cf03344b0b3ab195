// The docker backend: N RabbitMQ containers (compose/rabbitmq.local.Dockerfile) on a
// user-defined bridge network with fixed addresses (node i = addressBase + i - 1,
// default 10.78.0.11, …), driven through dockerode. The host reaches every node
// by its address, so cluster.json has the same shape as with the other backends.
// Nodes are independent brokers, as with local and netns (no Erlang clustering).
import { join } from 'node:path';
import Docker from 'dockerode';
import { writeClusterFile, readState, removeClusterFile, removeState, writeState, type StateFile } from './cluster-file.ts';
import { ClusterError } from './errors.ts';
import { nodeHealth } from './health.ts';
import { CREDENTIALS, REPO_ROOT, clusterNode, hostAddress } from './options.ts';
import { childrenOf, rssMb } from './process.ts';
import type { ClusterFile, ClusterNode, ClusterStatus, NodeStatus, ResolvedOptions, StoppedCluster } from './types.ts';
import { sleep } from '../util/wait.ts';

export const BASE_IMAGE = 'debian:bookworm-slim';
export const RABBIT_IMAGE = 'mirosnet/rabbitmq:local';
/** Every container and network this backend makes carries this label (value: the cluster dir). */
export const LABEL = 'io.mirosnet.cluster';

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

async function inspect(d: Docker, name: string): Promise<Docker.ContainerInspectInfo | undefined> {
  try {
    return await d.getContainer(name).inspect();
  } catch {
    return undefined;
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
    const h = await nodeHealth(s.host, erlangNode(s.name));
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

async function ensureNode(d: Docker, o: ResolvedOptions, s: Spec): Promise<number> {
  const info = await inspect(d, s.container);
  const ip = info?.NetworkSettings.Networks[networkName(o)]?.IPAddress;
  if (info?.State.Running && ip === s.host && (await nodeHealth(s.host, erlangNode(s.name))).healthy) {
    o.log(`${s.name}  already up (container ${s.container}, pid ${info.State.Pid})`);
    return info.State.Pid;
  }
  if (info) await d.getContainer(s.container).remove({ force: true }); // stopped, moved or broken: start afresh
  const t0 = Date.now();
  o.log(`${s.name}  starting ${erlangNode(s.name)} in container ${s.container} on ${s.host}`);
  const c = await d.createContainer({
    name: s.container,
    Image: RABBIT_IMAGE,
    Hostname: s.name,
    Env: [`RABBITMQ_NODENAME=${erlangNode(s.name)}`, ...(o.erlArgs ? [`RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS=${o.erlArgs}`] : [])],
    Labels: { [LABEL]: o.dir, 'io.mirosnet.node': s.name },
    HostConfig: { NetworkMode: networkName(o), Init: true },
    NetworkingConfig: { EndpointsConfig: { [networkName(o)]: { IPAMConfig: { IPv4Address: s.host } } } },
  });
  await c.start();
  await waitHealthy(d, o, s);
  const pid = (await c.inspect()).State.Pid;
  o.log(`${s.name}  ready in ${((Date.now() - t0) / 1000).toFixed(1)} s (container ${s.container}, pid ${pid})`);
  return pid;
}

function toClusterNode(s: Spec, pid: number): ClusterNode {
  // data and log live inside the container (docker exec / docker logs), not on the host
  const where = { dataDir: `${s.container}:/var/lib/rabbitmq/mnesia`, logFile: `${s.container}:stdout` };
  // distPort: the image's RabbitMQ default, which this backend never sets, so it does not know it
  return clusterNode({ ...s, erlangNode: erlangNode(s.name), distPort: null, ...where }, pid);
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
  const prev = readState(o.dir);
  if (prev && prev.backend !== 'docker' && Object.keys(prev.nodes).length) {
    throw new ClusterError(`a ${prev.backend} cluster is recorded in ${o.dir}`, 'take it down first: mirosnet cluster down');
  }
  const st: StateFile = { backend: 'docker', settings: { addressBase: o.addressBase, namePrefix: o.namePrefix, distPortBase: o.distPortBase, epmdPort: o.epmdPort, nsPrefix: o.nsPrefix, erlArgs: o.erlArgs, nodes: o.nodes }, bridge: networkName(o), nodes: {} };
  writeState(o.dir, st);
  await buildRabbitImage(d, o.log);
  await ensureNetwork(d, o);
  const wanted = Array.from({ length: o.nodes }, (_, i) => specOf(o, i + 1));
  for (const c of await labelled(d, o.dir)) {
    const name = c.Labels['io.mirosnet.node'];
    if (!wanted.some((w) => w.name === name)) {
      await d.getContainer(c.Id).remove({ force: true });
      o.log(`${name}  removed (cluster shrinks to ${o.nodes})`);
    }
  }
  const results = await Promise.allSettled(wanted.map((s) => ensureNode(d, o, s)));
  const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [{ s: wanted[i], err: r.reason as unknown }] : []));
  if (failed.length) {
    removeClusterFile(o.dir);
    const details = failed.map(({ s, err }) => (err instanceof ClusterError ? `${err.message}\n${err.details ?? ''}` : `${s.name}: ${String(err)}`)).join('\n\n');
    throw new ClusterError(`${failed.length} of ${wanted.length} nodes failed to start: ${failed.map((f) => f.s.name).join(', ')}`, 'clean up: mirosnet cluster down --backend docker', details);
  }
  const nodes = wanted.map((s, i) => toClusterNode(s, (results[i] as PromiseFulfilledResult<number>).value));
  for (const n of nodes) st.nodes[n.name] = { pid: n.pid };
  writeState(o.dir, st);
  return writeClusterFile(o.dir, { backend: 'docker', createdAt: new Date().toISOString(), credentials: { ...CREDENTIALS }, nodes }); // what was written: version 2
}

/** down for the docker backend: removes every container and the network labelled with this dir; `purge` also the image. */
export async function dockerDown(o: ResolvedOptions, purge = false): Promise<StoppedCluster> {
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
  if (purge && (await exists(d.getImage(RABBIT_IMAGE).inspect()))) {
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
  const nodes = file?.nodes ?? Array.from({ length: o.nodes }, (_, i) => toClusterNode(specOf(o, i + 1), 0));
  const statuses = await Promise.all(
    nodes.map(async (n): Promise<NodeStatus> => {
      const container = containerName(o, n.name);
      const info = await inspect(d, container);
      if (!info?.State.Running) return { node: n, state: 'down', healthy: false, detail: `container ${container} ${info ? info.State.Status : 'is gone'}` };
      const node = { ...n, pid: info.State.Pid };
      const h = await nodeHealth(n.host, n.erlangNode, n.amqpPort, n.managementPort);
      return { node, state: h.healthy ? 'healthy' : 'unhealthy', healthy: h.healthy, detail: h.detail, rssMb: treeRssMb(info.State.Pid) };
    }),
  );
  return { dir: o.dir, backend: 'docker', up: true, nodes: statuses };
}
