// simulate() as miros-rabbitmq/sim exports it: the runtime's (runtime/sim/simulate.ts) with the
// testbed's evidence writer for `out` (distributed.log, run.html, summary.json, the log check).
// With `seeds` instead of `seed` it runs many seeds in this process, each checked as the search
// checks it (ops/sim/check.ts): what a user's own vitest suite calls (examples/relay-simulation.test.ts).
// `mirosnet sim --seeds` runs the same in worker threads (ops/sim/search.ts).
import type { Program } from '../../runtime/sim/program.ts';
import type { SimulationResult } from '../../runtime/sim/result.ts';
import { simulate as simulateRun, type SimulateOptions } from '../../runtime/sim/simulate.ts';
import { checkSimRun } from './check.ts';
import { parseSeedRange } from './search.ts';
import { simEvidenceWriter } from './evidence.ts';

export interface SimulateSeedsOptions extends Omit<SimulateOptions, 'seed' | 'out'> {
  /** The seeds: 'A..B' (inclusive), { from, to }, or a list. */
  seeds: string | { from: number; to: number } | readonly number[];
  /** Called after each run (progress). */
  onRun?: (outcome: SeedOutcome, done: number, total: number) => void;
}

export interface SeedOutcome {
  seed: number;
  ok: boolean;
  hash: string;
  virtualMs: number;
  /** The checker's and the program's problems (loss, duplicate, order, liveness, invariant). */
  problems: string[];
}

export interface SeedsResult {
  runs: number;
  failed: number;
  outcomes: SeedOutcome[];
  /** Each failing seed, with the options that replay it (`simulate(program, replay)`, add `out` for its evidence). */
  failures: Array<SeedOutcome & { replay: SimulateOptions }>;
}

/** Runs `program` in a simulated world from `seed` (with `out`: its evidence there). */
export function simulate(program: Program, options: SimulateOptions): Promise<SimulationResult>;
/** Runs `program` once per seed, each checked; resolves with the failing seeds and how to replay them. */
export function simulate(program: Program, options: SimulateSeedsOptions): Promise<SeedsResult>;
export function simulate(program: Program, options: SimulateOptions | SimulateSeedsOptions): Promise<SimulationResult | SeedsResult> {
  if ('seeds' in options) return simulateSeeds(program, options);
  return simulateRun(program, { evidence: simEvidenceWriter, ...options });
}

/** The seeds of `seeds`, in order. */
export function seedList(seeds: SimulateSeedsOptions['seeds']): number[] {
  if (typeof seeds === 'string') return seedList(parseSeedRange(seeds));
  if ('from' in seeds) {
    const { from, to } = seeds;
    if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 0 || to < from) throw new RangeError(`seeds: want 0 <= from <= to, got ${from}..${to}`);
    if (to - from >= 1_000_000) throw new RangeError(`seeds: at most 1,000,000 in one call, got ${to - from + 1}`);
    return Array.from({ length: to - from + 1 }, (_, i) => from + i);
  }
  return [...seeds];
}

async function simulateSeeds(program: Program, options: SimulateSeedsOptions): Promise<SeedsResult> {
  const { seeds, onRun, ...rest } = options;
  const list = seedList(seeds);
  const outcomes: SeedOutcome[] = [];
  const failures: SeedsResult['failures'] = [];
  for (const seed of list) {
    const replay: SimulateOptions = { ...rest, seed };
    const result = await simulateRun(program, replay);
    const check = checkSimRun(result);
    const outcome: SeedOutcome = { seed, ok: check.ok, hash: result.hash, virtualMs: result.virtualMs, problems: check.problems };
    outcomes.push(outcome);
    if (!check.ok) failures.push({ ...outcome, replay });
    onRun?.(outcome, outcomes.length, list.length);
  }
  return { runs: outcomes.length, failed: failures.length, outcomes, failures };
}
