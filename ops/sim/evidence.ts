// The evidence of a simulated run, as a real run leaves it (ops/scenario/runner.ts): the
// monitor's distributed.log and distributed.jsonl, each chart's <name>.jsonl (written by the
// runtime's own EvidenceLog during the run), then the scenario's writers: `log check` and
// run.html (ops/log/run-evidence.ts) and summary.json (ops/scenario/summary.ts), with the
// simulation's seed, Node version and hash beside. Times are virtual (SIM_EPOCH_MS + the
// virtual ms), so the diagram's axis is virtual time.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeRunEvidence, type RunEvidence } from '../log/run-evidence.ts';
import { summaryJson, type CheckResult, type ScenarioSummary } from '../scenario/summary.ts';
import type { SimulationResult } from '../../runtime/sim/result.ts';
import { SIM_EPOCH_MS } from '../../runtime/sim/world.ts';
import type { CycleLine } from '../log/fault-bands.ts';
import { FAULTS_JSONL } from '../log/records.ts';
import { checkSimRun } from './check.ts';

/** summary.json of a simulated run: a scenario's, plus what replays it. */
export interface SimSummary extends ScenarioSummary {
  simulation: { seed: number; node: string; hash: string; virtualMs: number; program: string };
}

/** Makes `out` (it must hold no run yet: evidence files are appended to). */
export function prepareOut(out: string): void {
  if (existsSync(out)) {
    const runFiles = readdirSync(out).filter((f) => f.endsWith('.jsonl') || f === 'summary.json');
    if (runFiles.length > 0) throw new Error(`${out} already holds a run (${runFiles.slice(0, 3).join(', ')}…): give simulate an empty or new directory as out`);
  }
  mkdirSync(out, { recursive: true });
}

/** Writes distributed.log, distributed.jsonl, run.html and summary.json of `result` into `out`; returns the log check. */
export function writeSimEvidence(result: SimulationResult, out: string): RunEvidence & { summary: SimSummary } {
  writeFileSync(join(out, 'distributed.log'), result.lines.map((l) => `${l}\n`).join(''), { mode: 0o600 });
  writeFileSync(join(out, 'distributed.jsonl'), result.records.map((r) => `${JSON.stringify(r)}\n`).join(''), { mode: 0o600 });
  // the faults, as the chaos scenario writes its schedule: the log check then knows a killed chart could not close
  const faults: CycleLine[] = (result.faults?.records ?? [])
    .filter((f) => f.skipped === undefined)
    .map((f, i) => ({
      cycle: i + 1,
      kind: f.kind,
      target: [...(f.chart !== undefined ? [f.chart] : []), ...(f.host !== undefined ? [result.hosts[f.host] ?? String(f.host)] : [])],
      injectedAt: new Date(SIM_EPOCH_MS + f.startedAt).toISOString(),
      ...(f.healedAt !== undefined ? { healedAt: new Date(SIM_EPOCH_MS + f.healedAt).toISOString() } : {}),
    }));
  if (faults.length > 0) writeFileSync(join(out, FAULTS_JSONL), faults.map((f) => `${JSON.stringify(f)}\n`).join(''), { mode: 0o600 });
  const evidence = writeRunEvidence(out);
  const run = checkSimRun(result);
  const delivery = run.problems.filter((p) => !result.problems.includes(p));
  const checks: CheckResult[] = [
    { name: `invariant of ${result.program} holds, and it finished`, pass: result.problems.length === 0, reasons: result.problems },
    { name: 'no confirmed event lost, none handled twice by one incarnation, each sender\'s order kept', pass: delivery.length === 0, reasons: delivery },
    evidence.asCheck,
  ];
  const facts = {
    id: `sim-${result.seed}`,
    nodes: result.hosts.length,
    logDir: out,
    distributed: result.lines,
    instances: Object.entries(result.stats).map(([name, stats]) => ({
      name,
      config: { host: result.hosts[result.chartHosts[name] ?? 0] ?? '' },
      stats,
      stderr: result.warnings[name] ?? [],
      exitCode: 0,
    })),
  };
  const pass = checks.every((c) => c.pass);
  const summary: SimSummary = {
    ...summaryJson(result.program, facts, 'sim', checks, pass, result.virtualMs / 1000, { virtualMs: result.virtualMs, records: result.records.length }),
    simulation: { seed: result.seed, node: result.node, hash: result.hash, virtualMs: result.virtualMs, program: result.program },
  };
  writeFileSync(join(out, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  return { ...evidence, summary };
}

/** The writer simulate() takes for `out` (miros-rabbitmq/sim passes it: ops/sim/simulate.ts). */
export const simEvidenceWriter = { prepare: prepareOut, write: writeSimEvidence };
