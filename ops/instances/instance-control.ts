// A running scenario's instances, reachable from other processes: the run listens on a unix
// socket in the cluster dir, <dir>/scenario-<run id>.sock, for the fault API's killInstance
// and restartInstance (ops/faults/instances.ts, `mirosnet fault kill-instance NAME`). The
// instances are the run's children (their pipes feed its accounting), so only the run can
// restart one; a kill through the run is counted as a scheduled kill, not as a crash.
// Protocol: one JSON line each way.
//   → {"op":"kill-instance"|"restart-instance"|"list","name"?:string}
//   ← {"ok":true,"detail":string,"instances":string[]} | {"ok":false,"error":string,"instances":string[]}
import { rmSync } from 'node:fs';
import { type Server, createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export type ControlOp = 'kill-instance' | 'restart-instance' | 'list';
export interface ControlRequest {
  op: ControlOp;
  name?: string;
  /** kill-instance: SIGKILL (default) or SIGTERM. */
  signal?: 'SIGKILL' | 'SIGTERM';
  /** restart-instance: a command it runs under (faketime -f -30m). */
  prefix?: string[];
}
export type ControlReply = { ok: true; detail: string; instances: string[] } | { ok: false; error: string; instances: string[] };

/** What the socket acts on: a Run (runner.ts) has all of it. */
export interface ControlledRun {
  readonly id: string;
  readonly name: string;
  readonly instances: ReadonlyArray<{ readonly name: string; readonly exitCode: number | null | undefined; readonly spec: { broker: number } }>;
  killInstance(name: string, signal?: 'SIGKILL' | 'SIGTERM'): Promise<void>;
  restartInstance(name: string, how?: { prefix?: string[] }): Promise<void>;
}

export const controlSocketPath = (dir: string, runId: string) => join(dir, `scenario-${runId}.sock`);
export const CONTROL_SOCKET = /^scenario-[0-9a-f]+\.sock$/;

async function answer(run: ControlledRun, req: ControlRequest): Promise<ControlReply> {
  const instances = run.instances.map((i) => i.name);
  if (req.op === 'list') return { ok: true, detail: `${run.name} run ${run.id}`, instances };
  const inst = run.instances.find((i) => i.name === req.name);
  if (!inst) return { ok: false, error: `no instance '${req.name}' in ${run.name} run ${run.id}`, instances };
  if (req.op === 'kill-instance') {
    if (inst.exitCode !== undefined) return { ok: false, error: `${inst.name} is not running (restart it: mirosnet fault restart-instance ${inst.name})`, instances };
    const signal = req.signal ?? 'SIGKILL';
    await run.killInstance(inst.name, signal);
    return { ok: true, detail: `${signal} instance ${inst.name} (${run.name} run ${run.id})`, instances };
  }
  if (req.op === 'restart-instance') {
    const was = inst.exitCode === undefined ? 'killed (SIGKILL) and ' : '';
    await run.restartInstance(inst.name, req.prefix ? { prefix: req.prefix } : {});
    return { ok: true, detail: `instance ${inst.name} ${was}started again under the same name${req.prefix ? ` under ${req.prefix.join(' ')}` : ''} (READY)`, instances };
  }
  return { ok: false, error: `unknown op '${String(req.op)}'`, instances };
}

/** Listens until the returned close() (which removes the socket file). */
export async function serveInstanceControl(run: ControlledRun, dir: string): Promise<() => Promise<void>> {
  const path = controlSocketPath(dir, run.id);
  rmSync(path, { force: true });
  const server: Server = createServer((socket) => {
    socket.on('error', () => undefined);
    const lines = createInterface({ input: socket });
    lines.once('line', (line) => {
      let req: ControlRequest;
      try {
        req = JSON.parse(line) as ControlRequest;
      } catch {
        socket.end(`${JSON.stringify({ ok: false, error: 'not a JSON request', instances: [] })}\n`);
        return;
      }
      answer(run, req)
        .catch((err: unknown): ControlReply => ({ ok: false, error: (err as Error).message, instances: run.instances.map((i) => i.name) }))
        .then((reply) => socket.end(`${JSON.stringify(reply)}\n`));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  server.unref(); // never what keeps a finished scenario alive
  return () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      rmSync(path, { force: true });
    });
}
