// Broker faults: signals to a node's beam.smp, and restarting it.
//
// What is signalled: only beam.smp (the Erlang VM, found like `cluster status` finds it,
// by its RABBITMQ_PID_FILE). Its own children (erl_child_setup and the port programs
// it forks: inet_gethost, memsup, cpu_sup) do nothing on their own: stopping the VM
// stops the node, and when the VM dies they see their pipe close and exit. epmd is NOT
// signalled: on the local backend one epmd serves every node (and maybe other
// clusters), on netns one per host outlives its node anyway. So a paused node stays
// registered with epmd: peers resolve its name, connect, and hear nothing (Erlang's
// net_ticktime, 60 s by default, then declares it down); AMQP clients see the TCP
// handshake complete (the kernel still accepts into the listen backlog) but never get
// the AMQP protocol header answered: their connect or heartbeat times out.
import { up } from '../cluster/index.ts';
import { type NodeLocation, locateNode } from '../cluster/index.ts';
import { ClusterError } from '../cluster/errors.ts';
import { childrenOf, procState, signal, waitGone } from '../cluster/process.ts';
import { until } from '../util/wait.ts';
import { UnsupportedError } from './errors.ts';
import { type FaultOptions, type FaultRecord, record } from './record.ts';

type Backend = FaultRecord['backend'];

function located(node: string | number, opts: FaultOptions, verb: string): { backend: Backend; node: NodeLocation; dir: string } {
  const where = locateNode(node, opts);
  if (!where.backend) throw new ClusterError(`no cluster is up in ${where.dir}`, 'start one: mirosnet cluster up');
  if (where.backend === 'docker') throw new UnsupportedError(`${verb} is not implemented for the docker backend yet`, 'use the local or netns backend');
  return { backend: where.backend, node: where.node, dir: where.dir };
}

function running(n: NodeLocation, verb: string, dir: string): number {
  if (!n.beam) throw new ClusterError(`${verb}: node ${n.name} is not running`, `bring it back: mirosnet fault restart-broker ${n.name} --dir ${dir}`);
  return n.beam;
}

/** SIGKILL to the node's beam.smp; waits until it is gone. Undo: restart-broker. */
export async function killBroker(node: string | number, opts: FaultOptions = {}): Promise<FaultRecord> {
  const { backend, node: n, dir } = located(node, opts, 'kill-broker');
  const beam = running(n, 'kill-broker', dir);
  const children = childrenOf(beam);
  signal(beam, 'SIGKILL');
  if (!(await waitGone([beam], 10_000))) throw new ClusterError(`kill-broker: beam.smp ${beam} of ${n.name} is still there 10 s after SIGKILL`);
  await waitGone(children, 3000); // erl_child_setup & co. follow their VM
  return record('kill-broker', [n.name], backend, `SIGKILL beam.smp ${beam}${children.length ? ` (its children ${children.join(', ')} exit with it)` : ''}`, {
    kind: 'restart-broker',
    target: [n.name],
  });
}

/** SIGSTOP to the node's beam.smp (the VM freezes; epmd keeps answering). Undo: resume-broker. */
export async function pauseBroker(node: string | number, opts: FaultOptions = {}): Promise<FaultRecord> {
  const { backend, node: n, dir } = located(node, opts, 'pause-broker');
  const beam = running(n, 'pause-broker', dir);
  signal(beam, 'SIGSTOP');
  // no event tells when the kernel has stopped it: read its state (T) from /proc
  if (!(await until(() => procState(beam) === 'T', 1000, 20))) throw new ClusterError(`pause-broker: beam.smp ${beam} of ${n.name} did not stop (state ${procState(beam) ?? 'gone'})`);
  return record('pause-broker', [n.name], backend, `SIGSTOP beam.smp ${beam}`, { kind: 'resume-broker', target: [n.name] });
}

/** SIGCONT to the node's beam.smp. */
export async function resumeBroker(node: string | number, opts: FaultOptions = {}): Promise<FaultRecord> {
  const { backend, node: n, dir } = located(node, opts, 'resume-broker');
  const beam = running(n, 'resume-broker', dir);
  signal(beam, 'SIGCONT');
  return record('resume-broker', [n.name], backend, `SIGCONT beam.smp ${beam}`);
}

/**
 * Restarts the node, data kept: a running one is resumed (it may be paused) and stopped
 * with SIGTERM (SIGKILL after 30 s), then `cluster up`'s idempotence starts it again and
 * waits until it is healthy. Note: that `up` also restarts any OTHER dead node of the cluster.
 */
export async function restartBroker(node: string | number, opts: FaultOptions = {}): Promise<FaultRecord> {
  const { backend, node: n, dir } = located(node, opts, 'restart-broker');
  let detail = `${n.name} was down`;
  if (n.beam) {
    signal(n.beam, 'SIGCONT');
    signal(n.beam, 'SIGTERM');
    if (!(await waitGone([n.beam], 30_000))) {
      signal(n.beam, 'SIGKILL');
      await waitGone([n.beam], 5000);
    }
    detail = `SIGTERM beam.smp ${n.beam}`;
  }
  await up({ dir, log: opts.log ?? (() => {}) });
  const after = locateNode(n.name, { dir }).node.beam;
  return record('restart-broker', [n.name], backend, `${detail}; started again by cluster up (beam.smp ${after})`);
}
