/**
 * The conformance runner against Python miros on the same case: the comprehensive
 * case (test/fixtures/conformance/cases/comprehensive.json) with its events repeated
 * REPEAT times (2,000: 38,000 events, about 456,000 spy lines), each side run as its
 * own process with its JSON written to a pipe, so process start and JSON output count
 * on both sides:
 *   TypeScript: node scripts/conformance.mjs CASE (what `npm run conformance` runs)
 *   Python:     python3 bench/conformance-oracle.py CASE, with miros from MIROS_PY
 * Without MIROS_PY only the TypeScript side runs. Wall-clock seconds and CPU seconds
 * (user + system of the process, from bash's `time`) are both reported, median of
 * `rounds` alternating rounds; on a shared machine the CPU figure is the steadier one.
 * Both sides' outputs are compared (the Python one must equal ours).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const REPEAT = 2000;

export interface ConformanceSide {
  /** median wall-clock seconds */
  wallS: number;
  /** median CPU seconds (user + system) */
  cpuS: number;
  runs: Array<{ wallS: number; cpuS: number }>;
}

export interface ConformanceBench {
  events: number;
  spyLines: number;
  ts: ConformanceSide;
  python?: ConformanceSide;
  /** Python seconds / TypeScript seconds */
  ratio?: { wall: number; cpu: number };
  /** why the Python side did not run */
  pythonSkipped?: string;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? (s[(s.length - 1) / 2] as number) : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2;
};

/** Runs `argv` under bash's `time` with stdout to `outFile`; wall and CPU seconds. */
function timed(argv: string[], outFile: string, env: NodeJS.ProcessEnv): { wallS: number; cpuS: number } {
  const quoted = argv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  // the command's stdout goes through a pipe (cat), as when a caller reads it
  const script = `TIMEFORMAT='%R %U %S'; { time ${quoted} | cat > '${outFile}'; } 2>&1 1>/dev/null | tail -n 1`;
  const r = spawnSync('bash', ['-c', script], { cwd: root, env, encoding: 'utf8' });
  const m = /^([0-9.]+) ([0-9.]+) ([0-9.]+)$/.exec(r.stdout.trim());
  if (r.status !== 0 || !m) throw new Error(`${argv.join(' ')} failed (status ${r.status}): ${r.stderr || r.stdout}`);
  return { wallS: Number(m[1]), cpuS: Number(m[2]) + Number(m[3]) };
}

const side = (runs: Array<{ wallS: number; cpuS: number }>): ConformanceSide => ({
  wallS: median(runs.map((r) => r.wallS)),
  cpuS: median(runs.map((r) => r.cpuS)),
  runs,
});

export async function benchConformance(
  options: { rounds?: number; repeat?: number; log?: (line: string) => void } = {},
): Promise<ConformanceBench> {
  const rounds = options.rounds ?? 3;
  const repeat = options.repeat ?? REPEAT;
  const log = options.log ?? (() => {});
  const { ensureBuilt } = await import('../scripts/ensure-built.mjs');
  ensureBuilt(); // a build is not part of the runner's time

  const dir = mkdtempSync(path.join(tmpdir(), 'bench-conformance-'));
  try {
    const base = JSON.parse(readFileSync(path.join(root, 'test/fixtures/conformance/cases/comprehensive.json'), 'utf8')) as {
      events: unknown[];
    };
    const caseFile = path.join(dir, 'comprehensive-x.json');
    writeFileSync(caseFile, JSON.stringify({ ...base, events: Array.from({ length: repeat }, () => base.events).flat() }));
    const tsOut = path.join(dir, 'ts.json');
    const pyOut = path.join(dir, 'py.json');

    const mirosPy = process.env.MIROS_PY;
    let pythonSkipped: string | undefined;
    if (!mirosPy) pythonSkipped = 'MIROS_PY is not set (a Python miros source tree, e.g. a checkout of aleph2c/miros)';
    else if (!existsSync(path.join(mirosPy, 'miros', 'hsm.py'))) pythonSkipped = `MIROS_PY=${mirosPy} has no miros/hsm.py`;

    const tsArgv = [process.execPath, path.join(root, 'scripts/conformance.mjs'), caseFile];
    const pyArgv = ['python3', path.join(root, 'bench/conformance-oracle.py'), caseFile];
    const env = { ...process.env };
    const tsRuns: Array<{ wallS: number; cpuS: number }> = [];
    const pyRuns: Array<{ wallS: number; cpuS: number }> = [];
    for (let round = 0; round < rounds; round++) {
      tsRuns.push(timed(tsArgv, tsOut, env));
      log(`round ${round + 1}/${rounds}: TypeScript ${tsRuns.at(-1)?.wallS} s wall, ${tsRuns.at(-1)?.cpuS.toFixed(2)} s CPU`);
      if (pythonSkipped === undefined) {
        pyRuns.push(timed(pyArgv, pyOut, env));
        log(`round ${round + 1}/${rounds}: Python ${pyRuns.at(-1)?.wallS} s wall, ${pyRuns.at(-1)?.cpuS.toFixed(2)} s CPU`);
      }
    }

    const ours = JSON.parse(readFileSync(tsOut, 'utf8')) as { steps: Array<{ spy: string[] }> };
    const result: ConformanceBench = {
      events: ours.steps.length,
      spyLines: ours.steps.reduce((n, s) => n + s.spy.length, 0),
      ts: side(tsRuns),
    };
    if (pythonSkipped !== undefined) {
      result.pythonSkipped = pythonSkipped;
      return result;
    }
    const theirs = JSON.parse(readFileSync(pyOut, 'utf8')) as unknown;
    const { isDeepStrictEqual } = await import('node:util');
    if (!isDeepStrictEqual(ours, theirs)) throw new Error('the Python and TypeScript outputs differ: the comparison would be meaningless');
    result.python = side(pyRuns);
    result.ratio = { wall: result.python.wallS / result.ts.wallS, cpu: result.python.cpuS / result.ts.cpuS };
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
