// The fault search: many seeds of one program under faults, in worker_threads (worker.ts),
// each run checked (check.ts); a failing seed comes with the command that replays it.
// Used by `mirosnet sim`, the sim bench and the CI test.
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { FaultKind } from '../../runtime/sim/faults.ts';
import type { Regression } from '../../runtime/net/regressions.ts';

export interface SearchOptions {
  /** The program module (a .js/.ts path exporting `program` or a default); default the bundled relay. */
  program?: string;
  /** First and last seed, inclusive. */
  from: number;
  to: number;
  faults: readonly FaultKind[] | 'all';
  /** Faults per run (default 20). */
  faultsPerRun?: number;
  /** Virtual ms within which the faults of a run start and heal (default 20,000). */
  spanMs?: number;
  /** Worker threads (default: the cores, at most the seeds). */
  workers?: number;
  /** Test-only: old behaviours switched back in every run (runtime/net/regressions.ts). */
  regressions?: Regression[];
  /** Called after each run. */
  onProgress?: (done: number, total: number, failed: number) => void;
}

/** What one seed's run gave (a worker's message). */
export interface SeedOutcome {
  seed: number;
  ok: boolean;
  problems: string[];
  hash: string;
  virtualMs: number;
  kinds: string[];
  /** Real ms the run took in its worker. */
  realMs: number;
}

export interface SearchResult {
  runs: number;
  failed: number;
  runsPerMinute: number;
  /** Virtual time simulated per real second, summed over the workers (total virtual ms / wall ms). */
  virtualToRealRatio: number;
  /** Per run: its virtual ms over its own real ms, median. */
  perRunVirtualToReal: number;
  workers: number;
  wallMs: number;
  failures: Array<{ seed: number; replay: string; problems: string[] }>;
  outcomes: SeedOutcome[];
}

/** Parses "A..B" (or "N"): inclusive, A <= B, both integers >= 0. */
export function parseSeedRange(text: string): { from: number; to: number } {
  const m = /^(\d+)(?:\.\.(\d+))?$/.exec(text.trim());
  if (!m) throw new Error(`--seeds wants A..B (two integers, e.g. 0..999), got ${JSON.stringify(text)}`);
  const from = Number(m[1]);
  const to = m[2] === undefined ? from : Number(m[2]);
  if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || to < from) throw new Error(`--seeds ${text}: want A <= B`);
  return { from, to };
}

/** The command line that replays `seed` with its evidence in sim-<seed>/. */
export function replayCommand(seed: number, o: Pick<SearchOptions, 'program' | 'faults' | 'faultsPerRun' | 'spanMs' | 'regressions'>): string {
  const parts = ['npx mirosnet sim', `--seed ${seed}`];
  if (o.program) parts.push(`--program ${o.program}`);
  parts.push(`--faults ${o.faults === 'all' ? 'all' : o.faults.length === 0 ? 'none' : o.faults.join(',')}`);
  if (o.faultsPerRun !== undefined) parts.push(`--faults-per-run ${o.faultsPerRun}`);
  if (o.spanMs !== undefined) parts.push(`--span-ms ${o.spanMs}`);
  if (o.regressions?.length) parts.push(`--regress ${o.regressions.join(',')}`);
  parts.push(`--out sim-${seed}`);
  return parts.join(' ');
}

/**
 * A worker running the module beside this one: compiled (worker.js), or, when this runs from
 * source (tsx, vitest), worker.ts with tsx's loader registered in the thread first.
 */
function startWorker(workerData: unknown): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./worker.js', import.meta.url), { workerData });
  // the ESM entry of tsx/esm/api (require.resolve gives its CommonJS twin beside it)
  const api = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  const entry = new URL('./worker.ts', import.meta.url).href;
  const code = `import(${JSON.stringify(api)}).then((t) => { t.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(code, { eval: true, workerData });
}

export async function searchSeeds(o: SearchOptions): Promise<SearchResult> {
  const total = o.to - o.from + 1;
  const workers = Math.max(1, Math.min(o.workers ?? availableParallelism(), total));
  const outcomes: SeedOutcome[] = [];
  let next = o.from;
  let failed = 0;
  const started = performance.now();
  const config = { program: o.program, faults: o.faults, faultsPerRun: o.faultsPerRun ?? 20, spanMs: o.spanMs ?? 20_000, ...(o.regressions?.length ? { regressions: o.regressions } : {}) };
  await Promise.all(
    Array.from({ length: workers }, () =>
      new Promise<void>((resolve, reject) => {
        const worker = startWorker(config);
        const feed = () => {
          if (next > o.to) {
            void worker.terminate().then(() => resolve());
            return;
          }
          worker.postMessage({ seed: next++ });
        };
        worker.on('message', (m: SeedOutcome | { ready: true } | { error: string; seed?: number }) => {
          if ('error' in m) {
            void worker.terminate();
            reject(new Error(`sim worker${m.seed !== undefined ? ` (seed ${m.seed})` : ''}: ${m.error}`));
            return;
          }
          if ('seed' in m) {
            outcomes.push(m);
            if (!m.ok) failed++;
            o.onProgress?.(outcomes.length, total, failed);
          }
          feed();
        });
        worker.on('error', reject);
      }),
    ),
  );
  const wallMs = performance.now() - started;
  outcomes.sort((a, b) => a.seed - b.seed);
  const ratios = outcomes.map((r) => r.virtualMs / Math.max(1, r.realMs)).sort((a, b) => a - b);
  return {
    runs: outcomes.length,
    failed,
    runsPerMinute: Math.round((outcomes.length / wallMs) * 60_000),
    virtualToRealRatio: Number((outcomes.reduce((n, r) => n + r.virtualMs, 0) / wallMs).toFixed(2)),
    perRunVirtualToReal: Number((ratios[Math.floor(ratios.length / 2)] ?? 0).toFixed(2)),
    workers,
    wallMs: Math.round(wallMs),
    failures: outcomes.filter((r) => !r.ok).map((r) => ({ seed: r.seed, replay: replayCommand(r.seed, o), problems: r.problems })),
    outcomes,
  };
}
