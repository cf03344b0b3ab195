// Broker faults through the cluster's Backend (ops/cluster/backend.ts): signal and restart.
//
// local, netns: what is signalled is only beam.smp (the Erlang VM, found like `cluster
// status` finds it, by its RABBITMQ_PID_FILE). Its children (erl_child_setup and the port
// programs) exit with it. epmd is NOT signalled: on the local backend one epmd serves every
// node, on netns one per host outlives its node anyway. So a paused node stays registered
// with epmd: AMQP clients see the TCP handshake complete (the kernel still accepts into the
// listen backlog) but never get the AMQP protocol header answered: their connect or
// heartbeat times out. docker: the container is killed, paused (epmd frozen too) or
// restarted: the same container, so its queues survive.
import { type ClusterHandle, openCluster } from '../cluster/index.ts';
import { ClusterError } from '../cluster/errors.ts';
import { procState } from '../cluster/process.ts';
import { until } from '../util/wait.ts';
import { type FaultOptions, type FaultRecord, record } from './record.ts';

async function running(c: ClusterHandle, ref: string | number, verb: string) {
  const node = c.node(ref);
  const pid = await c.backend.brokerPid(c.options, node);
  if (!pid) throw new ClusterError(`${verb}: node ${node.name} is not running`, `bring it back: mirosnet fault restart-broker ${node.name} --dir ${c.dir}`);
  return { node, pid };
}

const what = (c: ClusterHandle, pid: number) => (c.backend.kind === 'docker' ? `container init ${pid}` : `beam.smp ${pid}`);

/** SIGKILL to the node's broker; waits until it is gone. Undo: restart-broker. */
export async function killBroker(ref: string | number, opts: FaultOptions = {}): Promise<FaultRecord> {
  const c = await openCluster(opts);
  const { node, pid } = await running(c, ref, 'kill-broker');
  await c.backend.signal(c.options, node, 'SIGKILL');
  return record('kill-broker', [node.name], c.backend.kind, `SIGKILL ${what(c, pid)}`, { kind: 'restart-broker', target: [node.name] });
}

/** SIGSTOP to the node's broker (docker: container paused). Undo: resume-broker. */
export async function pauseBroker(ref: string | number, opts: FaultOptions = {}): Promise<FaultRecord> {
  const c = await openCluster(opts);
  const { node, pid } = await running(c, ref, 'pause-broker');
  await c.backend.signal(c.options, node, 'SIGSTOP');
  if (c.backend.kind !== 'docker' && !(await until(() => procState(pid) === 'T', 1000, 20))) {
    // no event tells when the kernel has stopped it: read its state (T) from /proc
    throw new ClusterError(`pause-broker: beam.smp ${pid} of ${node.name} did not stop (state ${procState(pid) ?? 'gone'})`);
  }
  return record('pause-broker', [node.name], c.backend.kind, `SIGSTOP ${what(c, pid)}`, { kind: 'resume-broker', target: [node.name] });
}

/** SIGCONT to the node's broker (docker: container unpaused). */
export async function resumeBroker(ref: string | number, opts: FaultOptions = {}): Promise<FaultRecord> {
  const c = await openCluster(opts);
  const { node, pid } = await running(c, ref, 'resume-broker');
  await c.backend.signal(c.options, node, 'SIGCONT');
  return record('resume-broker', [node.name], c.backend.kind, `SIGCONT ${what(c, pid)}`);
}

/** SIGTERM to the node's broker; resolves once it is gone (chaos's restart-broker: held down, then restarted). Undo: restart-broker. */
export async function termBroker(ref: string | number, opts: FaultOptions = {}): Promise<FaultRecord> {
  const c = await openCluster(opts);
  const { node, pid } = await running(c, ref, 'restart-broker');
  await c.backend.signal(c.options, node, 'SIGTERM');
  await until(async () => !(await c.backend.brokerPid(c.options, node)), 60_000, 100);
  return record('restart-broker', [node.name], c.backend.kind, `SIGTERM ${what(c, pid)}; held down`, { kind: 'restart-broker', target: [node.name] });
}

/**
 * Restarts the node, data kept: a running one is resumed (it may be paused) and stopped
 * (SIGTERM, SIGKILL after 30 s), then started again; resolves once it is healthy. Only this
 * node is touched.
 */
export async function restartBroker(ref: string | number, opts: FaultOptions = {}): Promise<FaultRecord> {
  const c = await openCluster(opts);
  const node = c.node(ref);
  const before = await c.backend.brokerPid(c.options, node);
  await c.backend.restart({ ...c.options, log: opts.log ?? (() => {}) }, node);
  const after = await c.backend.brokerPid(c.options, node);
  const detail = before ? `stopped ${what(c, before)}` : `${node.name} was down`;
  return record('restart-broker', [node.name], c.backend.kind, `${detail}; started again (${after ? what(c, after) : '?'})`);
}
