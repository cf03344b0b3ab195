// Runs a scenario from ops/scenario against the shared cluster ($MIROS_CLUSTER_FILE),
// logs under the temp dir, quietly; the summary is in the result for assertions.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SCENARIOS, runScenario, type RunResult, type ScenarioArgs } from '../../ops/scenario/index.ts';

export async function scenario(name: string, nodes: number, args: ScenarioArgs = {}): Promise<RunResult> {
  const lines: string[] = [];
  const result = await runScenario(SCENARIOS[name]({ nodes, ...args }), {
    nodes,
    logsRoot: join(tmpdir(), 'miros-scenario-tests'),
    log: (line) => lines.push(line),
  });
  if (!result.pass) process.stderr.write(`${lines.join('\n')}\n`);
  return result;
}
