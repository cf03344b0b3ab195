// Runs a scenario script (scenarios/<name>.mjs, or any script path) as a user does, against
// the shared cluster ($MIROS_CLUSTER_FILE, inherited), logs under the temp dir; the printed
// summary and summary.json are in the result for assertions.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import type { CheckResult, ScenarioSummary } from '../../ops/scenario/summary.ts';

const repo = resolve(import.meta.dirname, '../..');
// this test run's own logs root: never a fixed path another user's run may own
const logsRoot = mkdtempSync(join(tmpdir(), 'miros-scenario-tests-'));

export interface ScriptResult {
  name: string;
  /** The exit status was 0 and summary.json says pass. */
  pass: boolean;
  status: number | null;
  /** What the script printed, its "[name] " prefixes taken off (the summary table, PASS/FAIL lines). */
  summary: string;
  /** Every line it printed (stdout and stderr), as printed. */
  output: string;
  checks: CheckResult[];
  logDir: string;
  seconds: number;
  json: ScenarioSummary | undefined;
}

/** Runs `script` (a scenario name in scenarios/, or a path) with `args`; resolves when it exits. */
export async function runScript(script: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<ScriptResult> {
  const file = script.endsWith('.mjs') ? (isAbsolute(script) ? script : resolve(repo, script)) : join(repo, 'scenarios', `${script}.mjs`);
  const child = spawn(process.execPath, [file, ...args], { cwd: opts.cwd ?? repo, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const status = await new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  const logDir = /^\[[^\]]+\] logs: (.+)$/m.exec(output)?.[1] ?? '';
  let json: ScenarioSummary | undefined;
  try {
    json = JSON.parse(readFileSync(join(logDir, 'summary.json'), 'utf8')) as ScenarioSummary;
  } catch {
    json = undefined;
  }
  const summary = output.replace(/^\[[^\]]+\] /gm, '');
  const result: ScriptResult = { name: json?.name ?? script, pass: status === 0 && json?.pass === true, status, summary, output, checks: json?.checks ?? [], logDir, seconds: json?.seconds ?? NaN, json };
  if (!result.pass) process.stderr.write(`${output}\n`);
  return result;
}

/** scenarios/<name>.mjs --nodes N with its logs in this run's temp dir, plus `args`. */
export function scenario(name: string, nodes: number, args: string[] = []): Promise<ScriptResult> {
  return runScript(name, ['--nodes', String(nodes), '--logs', logsRoot, ...args]);
}
