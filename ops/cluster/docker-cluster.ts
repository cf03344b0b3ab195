// Clustering for the docker backend (topology 'clustered'): what a container needs to join
// the others (the cluster dir's Erlang cookie, the model's cluster block as conf.d, the other
// members' names in /etc/hosts), and join/leave through `docker exec rabbitmqctl`.
import { readFileSync } from 'node:fs';
import { join as joinPath } from 'node:path';
import type Docker from 'dockerode';
import { ClusterError } from './errors.ts';
import { ensureCookie } from './rabbit.ts';
import { clusterOf } from './presets.ts';
import { renderClusterConf } from '../rabbit-config/render-conf.ts';
import type { ResolvedOptions } from './types.ts';

/** A docker node as clustering sees it. */
export interface DockerMember {
  name: string;
  host: string;
  container: string;
  erlangNode: string;
}

/** Inside the image, writable by the rabbitmq user (/etc/rabbitmq is root's). */
export const CONF_D = '/var/lib/rabbitmq/conf.d';
const COOKIE = '/var/lib/rabbitmq/.erlang.cookie';

/**
 * The start-up steps, environment and host entries of a cluster member: it copies the cookie
 * (from the cluster dir, shared by every container and the host's CLI) and the cluster block
 * (renderClusterConf of the model) into place before the server starts (bootCommand).
 */
export function memberContainer(o: ResolvedOptions, members: DockerMember[]): { setup: string[]; env: string[]; extraHosts: string[] } {
  ensureCookie(o.dir);
  const cookie = readFileSync(joinPath(o.dir, '.erlang.cookie'), 'utf8').trim();
  const conf = renderClusterConf(clusterOf(members.map((m) => m.erlangNode)), {});
  return {
    setup: [
      `umask 077; printf %s "$MIROSNET_COOKIE" > ${COOKIE}; chmod 400 ${COOKIE}`,
      `mkdir -p ${CONF_D}; printf %s "$MIROSNET_CLUSTER_CONF" > ${CONF_D}/20-cluster.conf`,
      'unset MIROSNET_COOKIE MIROSNET_CLUSTER_CONF',
    ],
    env: [`MIROSNET_COOKIE=${cookie}`, `MIROSNET_CLUSTER_CONF=${conf}`],
    extraHosts: members.map((m) => `${m.name}:${m.host}`),
  };
}

/** The container's command and the conf.d setting when start-up steps (cluster, TLS) precede the server; none without. */
export function bootCommand(setup: string[]): { Cmd?: string[]; Env: string[] } {
  if (!setup.length) return { Env: [] };
  return { Cmd: ['sh', '-c', [...setup, 'exec /usr/lib/rabbitmq/bin/rabbitmq-server'].join('; ')], Env: [`RABBITMQ_CONFIG_FILES=${CONF_D}`] };
}

/** Runs `argv` in the container; its exit code and output (stdout and stderr, demultiplexed). */
export async function dockerExec(d: Docker, container: string, argv: string[], timeoutMs = 60_000): Promise<{ exitCode: number; output: string }> {
  const exec = await d.getContainer(container).exec({ Cmd: argv, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  const chunks: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new ClusterError(`${argv.join(' ')} in ${container} did not finish in ${timeoutMs / 1000} s`, `docker logs ${container}`)), timeoutMs);
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => (clearTimeout(timer), resolve()));
    stream.on('error', (e: Error) => (clearTimeout(timer), reject(e)));
  });
  const buf = Buffer.concat(chunks);
  let output = '';
  for (let i = 0; i + 8 <= buf.length; ) {
    const len = buf.readUInt32BE(i + 4);
    output += buf.subarray(i + 8, i + 8 + len).toString('utf8');
    i += 8 + len;
  }
  return { exitCode: (await exec.inspect()).ExitCode ?? -1, output };
}

/** `rabbitmqctl -n NODE args` inside the member's container; its output. */
export async function dockerCtl(d: Docker, m: Pick<DockerMember, 'container' | 'erlangNode'>, args: string[]): Promise<string> {
  const r = await dockerExec(d, m.container, ['rabbitmqctl', '-n', m.erlangNode, ...args]);
  if (r.exitCode !== 0) throw new ClusterError(`rabbitmqctl ${args.join(' ')} in ${m.container} failed (exit ${r.exitCode})`, `docker logs ${m.container}`, r.output.trim());
  return r.output;
}
const ctl = dockerCtl;

/** Makes running member `node` join `seed`'s cluster (its own data goes). */
export async function dockerJoin(d: Docker, o: ResolvedOptions, node: DockerMember, seed: DockerMember): Promise<void> {
  o.log(`${node.name}  joining ${seed.erlangNode}'s cluster`);
  for (const args of [['stop_app'], ['reset'], ['join_cluster', seed.erlangNode], ['start_app']]) await ctl(d, node, args);
}

/** Takes `node` out of the cluster before its container goes: reset on it, else forget_cluster_node on `peer`. */
export async function dockerLeave(d: Docker, o: ResolvedOptions, node: DockerMember, peer: DockerMember): Promise<void> {
  try {
    await ctl(d, node, ['stop_app']);
    await ctl(d, node, ['reset']);
    o.log(`${node.name}  left the cluster (stop_app, reset)`);
  } catch (err) {
    o.log(`${node.name}  could not reset itself (${(err as Error).message}); forgetting it on ${peer.name}`);
    await d.getContainer(node.container).stop({ t: 5 }).catch(() => undefined);
    await ctl(d, peer, ['forget_cluster_node', node.erlangNode]);
  }
}
