// killInstance / restartInstance: faults on a running scenario's instances, asked of the run
// that owns them through its control socket in the cluster dir (ops/instances/instance-control.ts):
// only that run can start one again with its pipes, and it counts the kill as scheduled.
import { readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { ClusterError } from '../cluster/errors.ts';
import { defaultDir, openCluster } from '../cluster/index.ts';
import { CONTROL_SOCKET, type ControlReply, type ControlRequest } from '../instances/instance-control.ts';
import { type FaultOptions, type FaultRecord, record } from './record.ts';

function ask(path: string, req: ControlRequest, timeoutMs: number): Promise<ControlReply | undefined> {
  return new Promise((done) => {
    const socket = connect(path);
    const timer = setTimeout(() => {
      socket.destroy();
      done(undefined);
    }, timeoutMs);
    socket.on('error', () => {
      clearTimeout(timer);
      done(undefined); // a socket file left by a run that died: not a run
    });
    socket.on('connect', () => socket.write(`${JSON.stringify(req)}\n`));
    createInterface({ input: socket }).once('line', (line) => {
      clearTimeout(timer);
      socket.end();
      done(JSON.parse(line) as ControlReply);
    });
  });
}

async function instanceFault(op: 'kill-instance' | 'restart-instance', name: string, opts: FaultOptions): Promise<FaultRecord> {
  const dir = resolve(opts.dir ?? defaultDir());
  const c = await openCluster({ dir });
  const undo = op === 'kill-instance' ? { kind: 'restart-instance', target: [name] } : undefined;
  if (opts.instances) {
    // asked from inside the run that owns the instance (the scenario API, chaos)
    if (op === 'kill-instance') await opts.instances.killInstance(name);
    else await opts.instances.restartInstance(name);
    return record(op, [name], c.backend.kind, op === 'kill-instance' ? `SIGKILL instance ${name}` : `instance ${name} started again under the same name (READY)`, undo);
  }
  const sockets = readdirSync(dir).filter((f) => CONTROL_SOCKET.test(f));
  const known: string[] = [];
  for (const s of sockets) {
    // a restart waits for READY (up to 30 s): the run answers once it has it
    const reply = await ask(join(dir, s), { op, name }, 60_000);
    if (!reply) continue;
    if (reply.ok) return record(op, [name], c.backend.kind, reply.detail, undo);
    if (reply.instances.includes(name)) throw new ClusterError(`${op} ${name}: ${reply.error}`);
    known.push(...reply.instances);
  }
  throw new ClusterError(
    `${op}: no running scenario in ${dir} has an instance '${name}'`,
    known.length ? `its instances: ${known.join(', ')}` : 'instances live only while a scenario runs on this cluster (make scenario S=chaos …); start one first',
  );
}

/** SIGKILL to a running scenario's instance (the run counts it as scheduled). Undo: restartInstance. */
export function killInstance(name: string, opts: FaultOptions = {}): Promise<FaultRecord> {
  return instanceFault('kill-instance', name, opts);
}

/** Starts a scenario's instance again under the same name, on the same host (killing it first if it runs); resolves at its READY. */
export function restartInstance(name: string, opts: FaultOptions = {}): Promise<FaultRecord> {
  return instanceFault('restart-instance', name, opts);
}
