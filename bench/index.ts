// `npm run bench [-- engine|conformance|cluster|mesh|scale|sim ...]`: figures and ratios against baselines run
// in the same process. Nothing here asserts timings; it prints them.
// `--json`: one JSON object of every section's figures on stdout (progress goes to stderr).
const json = process.argv.includes('--json');
const sections = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const wanted = (name: string) => sections.length === 0 || sections.includes(name);
const figures: Record<string, unknown> = {};
const print = (line: string) => (json ? undefined : console.log(line));
const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits });
let failures = 0;

async function section(name: string, run: () => Promise<void>): Promise<void> {
  if (!wanted(name)) return;
  print(`\n== ${name} ==`);
  try {
    await run();
  } catch (err) {
    failures++;
    console.error(`${name} benchmark failed: ${(err as Error).message}`);
  }
}

await section('engine', async () => {
  const { benchEngine } = await import('./engine.ts');
  const { rows, ratios } = await benchEngine();
  figures.engine = { rows, ratios };
  for (const row of rows) print(`${row.name.padEnd(40)} ${fmt(row.eventsPerSec).padStart(12)} events/s`);
  for (const [name, ratio] of Object.entries(ratios)) print(`${name.padEnd(40)} ${fmt(ratio, 2).padStart(12)} ×`);
});

await section('conformance', async () => {
  const { benchConformance } = await import('./conformance.ts');
  const r = await benchConformance({ log: (line) => console.error(`conformance: ${line}`) });
  figures.conformance = r;
  const secs = (x: { wallS: number; cpuS: number }) => `${fmt(x.wallS, 2).padStart(6)} s wall  ${fmt(x.cpuS, 2).padStart(6)} s CPU`;
  print(`comprehensive case ×2000: ${fmt(r.events)} events, ${fmt(r.spyLines)} spy lines; one process per run, JSON to a pipe; median of ${r.ts.runs.length}`);
  print(`TypeScript runner   ${secs(r.ts)}`);
  if (r.python && r.ratio) {
    print(`Python miros        ${secs(r.python)}`);
    print(`Python / TypeScript ${fmt(r.ratio.wall, 1).padStart(6)} × wall  ${fmt(r.ratio.cpu, 1).padStart(6)} × CPU   target ≥ 10`);
  } else {
    print(`Python side skipped: ${r.pythonSkipped}`);
  }
});

await section('cluster', async () => {
  const { benchCluster } = await import('./cluster.ts');
  const r = await benchCluster();
  figures.cluster = r;
  print(`1 node ready in        ${fmt(r.oneNodeMs).padStart(8)} ms   ${fmt(r.cpuSecondsPerNode, 2)} CPU-s`);
  print(`3 nodes ready in       ${fmt(r.threeNodesMs).padStart(8)} ms   ${fmt(r.cpuSecondsPerNodeOfThree, 2)} CPU-s per node`);
  print(`ratio 3 nodes / 1 node ${fmt(r.ratio, 2).padStart(8)} ×    floor on 2 cores ${fmt(r.floorRatio, 2)} × (3 × CPU-s / 2 cores / 1 node's wall)`);
  print(`RSS per node           ${fmt(r.rssPerNodeMb).padStart(8)} MB`);
});

type MeshFigures = import('./mesh.ts').MeshBench;
const meshRatios = (r: MeshFigures) => ({
  persistent: { throughput: r.mesh.perSec / r.rawMeshWork.perSec, p50: r.mesh.p50 / r.rawMeshWork.p50, p99: r.mesh.p99 / r.rawMeshWork.p99 },
  transient: { throughput: r.meshTransient.perSec / r.rawMeshWorkTransient.perSec, p50: r.meshTransient.p50 / r.rawMeshWorkTransient.p50, p99: r.meshTransient.p99 / r.rawMeshWorkTransient.p99 },
  plainRaw: { throughput: r.mesh.perSec / r.raw.perSec, p50: r.mesh.p50 / r.raw.p50, p99: r.mesh.p99 / r.raw.p99 },
});

function printMesh(r: MeshFigures, ratios: ReturnType<typeof meshRatios>): void {
  const row = (name: string, f: { perSec: number; p50: number; p99: number }) =>
    `${name.padEnd(34)} ${fmt(f.perSec).padStart(8)} ev/s  p50 ${fmt(f.p50, 3).padStart(6)} ms  p99 ${fmt(f.p99, 3).padStart(7)} ms`;
  const ratio = (name: string, x: { throughput: number; p50: number; p99: number }) =>
    `${name.padEnd(34)} ${fmt(x.throughput, 2).padStart(8)} ×     p50 ${fmt(x.p50, 2).padStart(6)} ×   p99 ${fmt(x.p99, 2).padStart(7)} ×`;
  const where = r.topology === 'clustered' ? `one cluster of ${r.brokers} nodes, each event published once` : `mesh of ${r.brokers} brokers, each event to each`;
  print(`${where}: ${r.events} events, ${r.roundTrips} round trips, payload ${r.payloadBytes} B (body ${r.bodyBytes} B encrypted); median of ${r.rounds} alternating rounds`);
  print(row('mesh (persistent)', r.mesh));
  print(row("(a) raw, the mesh's AMQP work", r.rawMeshWork));
  print(row('mesh (transient)', r.meshTransient));
  print(row('(a) raw, the same, transient', r.rawMeshWorkTransient));
  if (!Number.isNaN(r.raw.perSec)) {
    print(row('(b) plain raw amqplib', r.raw));
    print(`    (b) with the mesh's fan-out: ${fmt(r.raw.fanoutPerSec)} msg/s`);
  }
  print(ratio('persistent / (a)', ratios.persistent) + '   targets ≥ 0.70, ≤ 1.3, ≤ 2');
  print(ratio('transient / (a) transient', ratios.transient) + '   targets ≥ 0.70, ≤ 1.3, ≤ 2');
  if (!Number.isNaN(r.raw.perSec)) print(ratio('persistent / (b) plain raw', ratios.plainRaw));
}

await section('mesh', async () => {
  const { benchMesh } = await import('./mesh.ts');
  const r = await benchMesh({ log: (line) => console.error(`mesh: ${line}`) });
  const ratios = meshRatios(r);
  figures.mesh = { ...r, ratios };
  printMesh(r, ratios);
  // --clustered: also the clustered topology against (a) on the same quorum queues (bench/README.md)
  if (process.argv.includes('--clustered')) {
    const { benchMeshClustered } = await import('./mesh.ts');
    const c = await benchMeshClustered((line) => console.error(`mesh clustered: ${line}`));
    figures['mesh-clustered'] = { ...c, ratios: meshRatios(c) };
    print('');
    printMesh(c, meshRatios(c));
  }
});

// not in the default run: it starts clusters of its own (5 mesh nodes, then a 3-node cluster)
if (sections.includes('mesh-scale')) {
  await section('mesh-scale', async () => {
    const { benchMeshScale } = await import('./mesh.ts');
    const all = await benchMeshScale((line) => console.error(`mesh-scale: ${line}`));
    figures['mesh-scale'] = all.map((r) => ({ ...r, ratios: meshRatios(r) }));
    for (const r of all) {
      printMesh(r, meshRatios(r));
      print('');
    }
  });
}

await section('scale', async () => {
  // the two topologies at the same M on the same brokers, in one run (the scale scenario's runner)
  const { ensureBuilt } = await import('../scripts/ensure-built.mjs');
  ensureBuilt(); // the instances run compiled
  const { runScale, formatScale } = await import('../ops/scenario/scale/scale.ts');
  const instances = Number(process.env.MIROS_BENCH_INSTANCES ?? 20);
  const durationS = Number(process.env.MIROS_BENCH_SECONDS ?? 20);
  const r = await runScale({ instances, nodes: 3, backend: 'local', topologies: ['clustered', 'mesh'], durationS, kill: false, log: () => {} });
  figures.scale = r.summary;
  print(formatScale(r.summary));
  print(`summary: ${r.logDir}/summary.json (M = MIROS_BENCH_INSTANCES, default 20; seconds = MIROS_BENCH_SECONDS, default 20)`);
});

await section('sim', async () => {
  const { benchSim } = await import('./sim.ts');
  const r = await benchSim({ log: (line) => console.error(`sim: ${line}`) });
  figures.sim = r;
  print(`relay, 3 charts, ~200 events, ${r.faultsPerRun} faults per run (every kind, swarm), span ${r.spanMs / 1000} s; ${r.seeds} seeds on ${r.workers} workers`);
  print(`runs per minute        ${fmt(r.runsPerMinute).padStart(8)}    target ≥ 1,000`);
  print(`virtual / real         ${fmt(r.virtualToRealRatio, 1).padStart(8)} ×  (all workers; per run, median ${fmt(r.perRunVirtualToReal, 1)} ×)`);
  print(`per run                ${fmt(r.meanVirtualS, 1).padStart(8)} virtual s, ${fmt(r.meanRealMs)} real ms (mean)`);
  print(`CPU per run            ${fmt(r.cpuMsPerRun).padStart(8)} ms    (${fmt(r.runsPerMinuteIdle)} runs/min on ${r.cores} idle cores; load average ${r.loadAverage} at the start)`);
  print(`failed                 ${fmt(r.failed).padStart(8)}${r.failures.length ? `   e.g. ${r.failures[0]!.replay}` : ''}`);
});

if (json) console.log(JSON.stringify(figures, null, 2));
process.exitCode = failures ? 1 : 0;
