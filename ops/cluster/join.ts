// Cluster membership changes on plain-process nodes (local, netns): `join` makes a running
// node a member of the seed's cluster, `leave` takes one out. Classic-config peer discovery
// (ops/rabbit-config) covers blank nodes at first boot; these cover the rest: a node with
// data of its own, or one that formed a cluster of its own.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ClusterError } from './errors.ts';
import type { NodeSpec } from './options.ts';
import { RABBITMQ_BIN, nodeEnv } from './rabbit.ts';
import type { ResolvedOptions } from './types.ts';

const run = promisify(execFile);
export const RABBITMQCTL = `${RABBITMQ_BIN}/rabbitmqctl`;

/** The command line and environment that run `rabbitmqctl args` against node `spec`. */
export function ctlCommand(o: ResolvedOptions, spec: NodeSpec, args: string[]): { cmd: string; args: string[]; env: NodeJS.ProcessEnv } {
  const ctl = [RABBITMQCTL, '-n', spec.erlangNode, ...args];
  if (o.backend === 'netns') return { cmd: 'ip', args: ['netns', 'exec', spec.ns!, ...ctl], env: nodeEnv(spec, o, { RABBITMQ_USE_LONGNAME: 'true' }) };
  return { cmd: ctl[0], args: ctl.slice(1), env: nodeEnv(spec, o, { ERL_EPMD_ADDRESS: '127.0.0.1', ERL_EPMD_PORT: String(o.epmdPort) }) };
}

/** Runs rabbitmqctl against `spec` (HOME is the cluster dir: the shared cookie); its stdout. */
export async function rabbitmqctl(o: ResolvedOptions, spec: NodeSpec, args: string[], timeoutMs = 60_000): Promise<string> {
  const c = ctlCommand(o, spec, args);
  try {
    return (await run(c.cmd, c.args, { env: c.env, timeout: timeoutMs })).stdout;
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string };
    throw new ClusterError(
      `rabbitmqctl ${args.join(' ')} on ${spec.name} (${spec.erlangNode}) failed`,
      `is the node up? mirosnet cluster status${o.dir ? ` --dir ${o.dir}` : ''}`,
      (e.stderr || e.stdout || e.message).trim(),
    );
  }
}

/** Makes running node `node` a member of `seed`'s cluster: stop_app, reset (its own data goes), join_cluster, start_app. */
export async function join(o: ResolvedOptions, node: NodeSpec, seed: NodeSpec): Promise<void> {
  o.log(`${node.name}  joining ${seed.erlangNode}'s cluster`);
  await rabbitmqctl(o, node, ['stop_app']);
  await rabbitmqctl(o, node, ['reset']);
  await rabbitmqctl(o, node, ['join_cluster', seed.erlangNode]);
  await rabbitmqctl(o, node, ['start_app']);
}

/**
 * Takes `node` out of its cluster. Running: stop_app and reset on it (the others forget it).
 * Not running (or the reset failed): forget_cluster_node on `peer`, a remaining member.
 * The caller stops the node's server afterwards.
 */
export async function leave(o: ResolvedOptions, node: NodeSpec, peer: NodeSpec | undefined, running: boolean): Promise<void> {
  if (running) {
    try {
      await rabbitmqctl(o, node, ['stop_app']);
      await rabbitmqctl(o, node, ['reset']);
      o.log(`${node.name}  left the cluster (stop_app, reset)`);
      return;
    } catch (err) {
      if (!peer) throw err;
      o.log(`${node.name}  could not reset itself (${(err as Error).message}); forgetting it on ${peer.name}`);
      await rabbitmqctl(o, node, ['stop_app']).catch(() => undefined); // forget_cluster_node needs it stopped
    }
  }
  if (!peer) return; // the last node: no cluster is left to forget it
  await rabbitmqctl(o, peer, ['forget_cluster_node', node.erlangNode]);
  o.log(`${node.name}  forgotten by ${peer.name} (forget_cluster_node)`);
}
