// Runs a scenario from ops/scenario against the shared cluster ($MIROS_CLUSTER_FILE),
// logs under the temp dir, quietly; the summary is in the result for assertions.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SCENARIOS, runScenario, type RunResult, type ScenarioArgs } from '../../ops/scenario/index.ts';

// this test run's own logs root: never a fixed path another user's run may own
const logsRoot = mkdtempSync(join(tmpdir(), 'miros-scenario-tests-'));

export async function scenario(name: string, nodes: number, args: ScenarioArgs = {}): Promise<RunResult> {
  const lines: string[] = [];
  const result = await runScenario(SCENARIOS[name]({ nodes, ...args }), {
    nodes,
    logsRoot,
    log: (line) => lines.push(line),
  });
  if (!result.pass) process.stderr.write(`${lines.join('\n')}\n`);
  return result;
}
