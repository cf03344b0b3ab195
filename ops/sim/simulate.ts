// simulate() as miros-rabbitmq/sim exports it: the runtime's (runtime/sim/simulate.ts) with the
// testbed's evidence writer for `out` (distributed.log, run.html, summary.json, the log check).
import type { Program } from '../../runtime/sim/program.ts';
import type { SimulationResult } from '../../runtime/sim/result.ts';
import { simulate as simulateRun, type SimulateOptions } from '../../runtime/sim/simulate.ts';
import { simEvidenceWriter } from './evidence.ts';

export function simulate(program: Program, options: SimulateOptions): Promise<SimulationResult> {
  return simulateRun(program, { evidence: simEvidenceWriter, ...options });
}
