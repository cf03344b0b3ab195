// A worker thread of the fault search (search.ts): loads the program once, then runs the
// seeds it is sent, one at a time, and answers each with its checked outcome.
import { parentPort, workerData } from 'node:worker_threads';
import type { FaultKind } from '../../runtime/sim/faults.ts';
import type { Regression } from '../../runtime/net/regressions.ts';
import { simulate } from '../../runtime/sim/simulate.ts';
import { checkSimRun } from './check.ts';
import { loadProgram } from './load-program.ts';

interface Config {
  program?: string;
  faults: readonly FaultKind[] | 'all';
  faultsPerRun: number;
  spanMs: number;
  regressions?: Regression[];
}

const config = workerData as Config;
const port = parentPort;
if (!port) throw new Error('ops/sim/worker.ts runs as a worker thread (search.ts starts it)');

try {
  const program = await loadProgram(config.program);
  port.on('message', (m: { seed: number }) => {
    const t = performance.now();
    simulate(program, { seed: m.seed, faults: { kinds: config.faults, count: config.faultsPerRun, spanMs: config.spanMs }, ...(config.regressions ? { regressions: config.regressions } : {}) }).then(
      (result) => {
        const check = checkSimRun(result);
        port.postMessage({ seed: m.seed, ok: check.ok, problems: check.problems, hash: result.hash, virtualMs: result.virtualMs, kinds: result.faults?.plan.kinds ?? [], realMs: performance.now() - t });
      },
      (err: unknown) => port.postMessage({ seed: m.seed, ok: false, problems: [`the run threw: ${(err as Error).message}`], hash: '', virtualMs: 0, kinds: [], realMs: performance.now() - t }),
    );
  });
  port.postMessage({ ready: true });
} catch (err) {
  port.postMessage({ error: (err as Error).message });
}
