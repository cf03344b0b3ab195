// `npm run bench -- sim`: the fault search's speed (runs per minute, virtual time per real
// time) for the relay with 3 charts, about 290 events in two bursts, 20 faults per run and ≥ 60 s of virtual
// time each (relayBench of examples/relay), every fault kind allowed, in worker threads,
// compiled (dist/), as `mirosnet sim` runs.
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { SearchResult, SearchOptions } from '../ops/sim/search.ts';

export interface SimBench {
  seeds: number;
  workers: number;
  faultsPerRun: number;
  spanMs: number;
  runsPerMinute: number;
  virtualToRealRatio: number;
  perRunVirtualToReal: number;
  meanVirtualS: number;
  meanRealMs: number;
  /** CPU ms per run, the whole process (workers, their start and the main thread) over the runs. */
  cpuMsPerRun: number;
  /** Runs a minute that CPU time allows on this machine's cores when nothing else runs (the machine is shared: wall figures move with its load). */
  runsPerMinuteIdle: number;
  /** The 1-minute load average when the bench began (cores: availableParallelism). */
  loadAverage: number;
  cores: number;
  failed: number;
  failures: SearchResult['failures'];
}

export async function benchSim(o: { seeds?: number; workers?: number; log?: (line: string) => void } = {}): Promise<SimBench> {
  // 400: a search long enough that the two workers' start-up (about a second each) does not set the rate
  const seeds = o.seeds ?? Number(process.env.MIROS_BENCH_SIM_SEEDS ?? 400);
  const faultsPerRun = 20;
  const spanMs = 60_000;
  const { ensureBuilt } = await import('../scripts/ensure-built.mjs');
  ensureBuilt();
  const dist = new URL('../dist/', import.meta.url);
  const { searchSeeds } = (await import(new URL('ops/sim/search.js', dist).href)) as { searchSeeds: (o: SearchOptions) => Promise<SearchResult> };
  const loadAverage = Number(loadavg()[0]!.toFixed(1));
  const cpu0 = process.cpuUsage();
  const r = await searchSeeds({
    program: `${fileURLToPath(new URL('examples/relay/program.js', dist))}#relayBench`,
    from: 0,
    to: seeds - 1,
    faults: 'all',
    faultsPerRun,
    spanMs,
    ...(o.workers !== undefined ? { workers: o.workers } : {}),
    onProgress: (done, total, failed) => {
      if (done % 10 === 0 || done === total) o.log?.(`${done}/${total} runs, ${failed} failed`);
    },
  });
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const cores = availableParallelism();
  const n = Math.max(1, r.outcomes.length);
  return {
    seeds,
    workers: r.workers,
    faultsPerRun,
    spanMs,
    runsPerMinute: r.runsPerMinute,
    virtualToRealRatio: r.virtualToRealRatio,
    perRunVirtualToReal: r.perRunVirtualToReal,
    meanVirtualS: Number((r.outcomes.reduce((s, x) => s + x.virtualMs, 0) / n / 1000).toFixed(1)),
    meanRealMs: Math.round(r.outcomes.reduce((s, x) => s + x.realMs, 0) / n),
    cpuMsPerRun: Math.round(cpuMs / n),
    runsPerMinuteIdle: Math.round((n / (cpuMs / Math.min(cores, r.workers))) * 60_000),
    loadAverage,
    cores,
    failed: r.failed,
    failures: r.failures,
  };
}
