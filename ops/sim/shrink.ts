// `mirosnet sim --seed N --shrink`: reduces a failing seed's fault schedule to a minimal list of
// faults that still fails, by delta debugging over the planned faults (Zeller and Hildebrandt,
// "Simplifying and isolating failure-inducing input", 2002). Each candidate list is replayed
// with the same seed (simulate's `faults.schedule`: the seed still drives everything else) and
// checked (check.ts); a candidate counts as failing when it shows a problem of the same class
// as the original run (loss, duplicate, order or other), so the search does not slide from one
// bug to another. Runs one after another in this thread, within a real-time budget: what is
// smallest by then is the answer (timedOut says so).
import type { Regression } from '../../runtime/net/regressions.ts';
import { FAULT_KINDS, type Fault, type FaultKind } from '../../runtime/sim/faults.ts';
import type { Program } from '../../runtime/sim/program.ts';
import { simulate } from '../../runtime/sim/simulate.ts';
import { checkSimRun } from './check.ts';
import { replayCommand } from './search.ts';

export interface ShrinkOptions {
  seed: number;
  faults: readonly FaultKind[] | 'all';
  faultsPerRun?: number;
  spanMs?: number;
  regressions?: readonly Regression[];
  /** Start from this schedule instead of the seed's own. */
  schedule?: readonly Fault[];
  /** The program's module path, for the replay command (default: the bundled relay). */
  programPath?: string;
  /** Real ms to spend (default 55,000). */
  budgetMs?: number;
}

export interface ShrinkResult {
  seed: number;
  /** The run with the starting schedule failed (else there was nothing to shrink). */
  failing: boolean;
  /** Faults in the starting schedule. */
  original: number;
  /** The smallest failing schedule found. */
  faults: Fault[];
  /** The problems of its run. */
  problems: string[];
  /** Runs made, and the real ms they took. */
  runs: number;
  realMs: number;
  /** The budget ran out before the list was 1-minimal (every single fault removed once). */
  timedOut: boolean;
  /** The command that replays the shrunk schedule. */
  replay: string;
}

type ProblemClass = 'loss' | 'duplicate' | 'order' | 'other';

function classes(problems: readonly string[]): Set<ProblemClass> {
  return new Set(problems.map((p) => (/ lost /.test(p) ? 'loss' : /handled twice/.test(p) ? 'duplicate' : /out of their sender's order/.test(p) ? 'order' : 'other')));
}

/** Parses a schedule given as JSON (a list of faults, as --shrink prints it). */
export function parseSchedule(text: string): Fault[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`--schedule wants a JSON list of faults: ${(err as Error).message}`);
  }
  if (!Array.isArray(value)) throw new Error('--schedule wants a JSON list of faults');
  return value.map((f: unknown, i) => {
    const o = f as Partial<Fault> | null;
    const bad = (why: string) => new Error(`--schedule: fault ${i}: ${why}`);
    if (o === null || typeof o !== 'object') throw bad('not an object');
    if (!(FAULT_KINDS as readonly string[]).includes(String(o.kind))) throw bad(`unknown kind ${JSON.stringify(o.kind)}`);
    if (!Number.isSafeInteger(o.at) || o.at! < 0) throw bad('at: an integer >= 0');
    if (!Number.isSafeInteger(o.durationMs) || o.durationMs! < 0) throw bad('durationMs: an integer >= 0');
    if (o.chart !== undefined && typeof o.chart !== 'string') throw bad('chart: a string');
    if (o.host !== undefined && !Number.isSafeInteger(o.host)) throw bad('host: an integer');
    if (o.amount !== undefined && typeof o.amount !== 'number') throw bad('amount: a number');
    return { at: o.at!, kind: o.kind!, durationMs: o.durationMs!, ...(o.chart !== undefined ? { chart: o.chart } : {}), ...(o.host !== undefined ? { host: o.host } : {}), ...(o.amount !== undefined ? { amount: o.amount } : {}) };
  });
}

/** Shrinks the failing schedule of `options.seed` (see the module's comment). */
export async function shrinkSeed(program: Program, options: ShrinkOptions): Promise<ShrinkResult> {
  const started = performance.now();
  const budgetMs = options.budgetMs ?? 55_000;
  let runs = 0;
  const faultOptions = { kinds: options.faults, count: options.faultsPerRun ?? 20, spanMs: options.spanMs ?? 20_000 };
  const run = async (schedule?: readonly Fault[]) => {
    runs++;
    const result = await simulate(program, { seed: options.seed, faults: { ...faultOptions, ...(schedule ? { schedule } : {}) }, ...(options.regressions?.length ? { regressions: options.regressions } : {}) });
    return { result, check: checkSimRun(result) };
  };

  const first = await run(options.schedule);
  const original = first.result.faults?.plan.faults ?? [];
  let best: Fault[] = [...original];
  let bestProblems = first.check.problems;
  const wanted = classes(first.check.problems);
  let timedOut = false;
  const done = (failing: boolean): ShrinkResult => ({
    seed: options.seed,
    failing,
    original: original.length,
    faults: best,
    problems: bestProblems,
    runs,
    realMs: Math.round(performance.now() - started),
    timedOut,
    replay: `${replayCommand(options.seed, { ...(options.programPath ? { program: options.programPath } : {}), faults: options.faults, ...(options.faultsPerRun !== undefined ? { faultsPerRun: options.faultsPerRun } : {}), ...(options.spanMs !== undefined ? { spanMs: options.spanMs } : {}), ...(options.regressions?.length ? { regressions: [...options.regressions] } : {}) }).replace(/ --out sim-\d+$/, '')} --schedule '${JSON.stringify(best)}'`,
  });
  if (first.check.ok) return done(false);

  /** True (and `best` updated) if `candidate` still fails the same way. */
  const fails = async (candidate: Fault[]): Promise<boolean> => {
    const { check } = await run(candidate);
    if (check.ok || ![...classes(check.problems)].some((c) => wanted.has(c))) return false;
    best = candidate;
    bestProblems = check.problems;
    return true;
  };
  const outOfTime = () => performance.now() - started > budgetMs;

  // no fault at all: then the schedule is not the cause
  if (await fails([])) return done(true);
  // ddmin: try each chunk alone, then each complement, at finer and finer granularity
  let n = 2;
  while (best.length >= 2) {
    if (outOfTime()) {
      timedOut = true;
      return done(true);
    }
    const size = Math.ceil(best.length / n);
    const chunks: Fault[][] = [];
    for (let i = 0; i < best.length; i += size) chunks.push(best.slice(i, i + size));
    let reduced = false;
    for (const chunk of chunks) {
      if (outOfTime()) break;
      if (await fails(chunk)) {
        n = 2;
        reduced = true;
        break;
      }
    }
    if (!reduced && chunks.length > 2) {
      for (let i = 0; i < chunks.length && !outOfTime(); i++) {
        const complement = chunks.filter((_, j) => j !== i).flat();
        if (await fails(complement)) {
          n = Math.max(n - 1, 2);
          reduced = true;
          break;
        }
      }
    }
    if (!reduced) {
      if (n >= best.length) break; // every single fault tried alone and left out: 1-minimal
      n = Math.min(n * 2, best.length);
    }
  }
  timedOut = outOfTime() && best.length >= 2;
  return done(true);
}

/** The shrink's result for people: the schedule, one fault a line, and the replay command. */
export function formatShrink(r: ShrinkResult): string {
  if (!r.failing) return `seed ${r.seed}: passes; nothing to shrink (${r.runs} run, ${(r.realMs / 1000).toFixed(1)} s)`;
  const lines = [
    `seed ${r.seed}: ${r.original} faults shrunk to ${r.faults.length} in ${r.runs} runs, ${(r.realMs / 1000).toFixed(1)} s${r.timedOut ? ' (budget spent: not minimal)' : ''}`,
    ...r.faults.map((f) => `  at ${f.at} ms  ${f.kind}${f.chart !== undefined ? ` ${f.chart}` : ''}${f.host !== undefined ? ` host ${f.host}` : ''}${f.amount !== undefined ? ` amount ${f.amount}` : ''}  for ${f.durationMs} ms`),
    ...r.problems.map((p) => `  problem: ${p}`),
    `replay: ${r.replay}`,
  ];
  return lines.join('\n');
}
