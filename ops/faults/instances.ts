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

/** What a run is asked to do to one of its instances. */
type Ask = { op: 'kill-instance'; signal?: 'SIGKILL' | 'SIGTERM' } | { op: 'restart-instance'; prefix?: string[] };

/** Asks the run that owns instance `name` (in-process when opts.instances is given, else through its control socket); what it did. */
async function askRun(name: string, what: Ask, opts: FaultOptions, dir: string): Promise<string> {
  if (opts.instances) {
    if (what.op === 'kill-instance') {
      await opts.instances.killInstance(name, what.signal);
      return `${what.signal ?? 'SIGKILL'} instance ${name}`;
    }
    await opts.instances.restartInstance(name, what.prefix ? { prefix: what.prefix } : {});
    return `instance ${name} started again under the same name${what.prefix ? ` under ${what.prefix.join(' ')}` : ''} (READY)`;
  }
  const known: string[] = [];
  for (const s of readdirSync(dir).filter((f) => CONTROL_SOCKET.test(f))) {
    // a restart waits for READY (up to 30 s): the run answers once it has it
    const reply = await ask(join(dir, s), { ...what, name }, 60_000);
    if (!reply) continue;
    if (reply.ok) return reply.detail;
    if (reply.instances.includes(name)) throw new ClusterError(`${what.op} ${name}: ${reply.error}`);
    known.push(...reply.instances);
  }
  throw new ClusterError(
    `${what.op}: no running scenario in ${dir} has an instance '${name}'`,
    known.length ? `its instances: ${known.join(', ')}` : 'instances live only while a scenario runs on this cluster (make scenario S=chaos …); start one first',
  );
}

async function instanceFault(kind: string, name: string, steps: Ask[], opts: FaultOptions, undo?: FaultRecord['undo']): Promise<FaultRecord> {
  const dir = resolve(opts.dir ?? defaultDir());
  const c = await openCluster({ dir });
  const done: string[] = [];
  for (const step of steps) done.push(await askRun(name, step, opts, dir));
  return record(kind, [name], c.backend.kind, done.join('; '), undo);
}

/** SIGKILL to a running scenario's instance (the run counts it as scheduled). Undo: restartInstance. */
export function killInstance(name: string, opts: FaultOptions = {}): Promise<FaultRecord> {
  return instanceFault('kill-instance', name, [{ op: 'kill-instance' }], opts, { kind: 'restart-instance', target: [name] });
}

/** Starts a scenario's instance again under the same name, on the same host (killing it first if it runs); resolves at its READY. */
export function restartInstance(name: string, opts: FaultOptions = {}): Promise<FaultRecord> {
  return instanceFault('restart-instance', name, [{ op: 'restart-instance' }], opts);
}

/** SIGTERM to the instance (it stops cleanly, its queues kept), then the same program started again; resolves at its READY. */
export function termInstance(name: string, opts: FaultOptions = {}): Promise<FaultRecord> {
  return instanceFault('term-instance', name, [{ op: 'kill-instance', signal: 'SIGTERM' }, { op: 'restart-instance' }], opts);
}

/** How far clock-step sets an instance's wall clock back (libfaketime's offset). */
export const CLOCK_STEP = '-30m';

/**
 * The program runs with libfaketime preloaded (Debian's faketime package; ld.so expands $LIB).
 * Not the `faketime` wrapper: it forks, so the runner would signal the wrapper and not the
 * program; `env` execs it, and the instance's pid stays the program's.
 */
const FAKETIME_PREFIX = ['env', 'LD_PRELOAD=/usr/$LIB/faketime/libfaketime.so.1', `FAKETIME=${CLOCK_STEP}`];

/**
 * Stops the instance cleanly (SIGTERM) and starts it again with its wall clock 30 minutes behind
 * (libfaketime; local and netns). Undo: term-instance (a clean stop, its own clock again). Both
 * stops are clean on purpose: a chart killed under a stepped clock could not write its closing
 * record, and its last line would sit 30 minutes before the fault that killed it.
 */
export function clockStep(name: string, opts: FaultOptions = {}): Promise<FaultRecord> {
  return instanceFault('clock-step', name, [{ op: 'kill-instance', signal: 'SIGTERM' }, { op: 'restart-instance', prefix: FAKETIME_PREFIX }], opts, {
    kind: 'term-instance',
    target: [name],
  });
}
