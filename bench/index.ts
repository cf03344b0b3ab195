// `npm run bench [-- engine|cluster|mesh|scale ...]`: figures and ratios against baselines run
// in the same process. Nothing here asserts timings; it prints them.
const sections = process.argv.slice(2);
const wanted = (name: string) => sections.length === 0 || sections.includes(name);
const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits });
let failures = 0;

async function section(name: string, run: () => Promise<void>): Promise<void> {
  if (!wanted(name)) return;
  console.log(`\n== ${name} ==`);
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
  for (const row of rows) console.log(`${row.name.padEnd(40)} ${fmt(row.eventsPerSec).padStart(12)} events/s`);
  for (const [name, ratio] of Object.entries(ratios)) console.log(`${name.padEnd(40)} ${fmt(ratio, 2).padStart(12)} ×`);
});

await section('cluster', async () => {
  const { benchCluster } = await import('./cluster.ts');
  const r = await benchCluster();
  console.log(`1 node ready in        ${fmt(r.oneNodeMs).padStart(8)} ms`);
  console.log(`3 nodes ready in       ${fmt(r.threeNodesMs).padStart(8)} ms`);
  console.log(`ratio 3 nodes / 1 node ${fmt(r.ratio, 2).padStart(8)} ×   (target ≤ 1.3)`);
  console.log(`RSS per node           ${fmt(r.rssPerNodeMb).padStart(8)} MB`);
});

await section('mesh', async () => {
  const { benchMesh } = await import('./mesh.ts');
  const r = await benchMesh();
  console.log(`events per run: ${r.events}, round trips: ${r.roundTrips}, payload ${r.payloadBytes} B`);
  console.log(`throughput  mesh ${fmt(r.mesh.perSec).padStart(8)} ev/s   raw amqplib ${fmt(r.raw.perSec).padStart(8)} msg/s   ratio ${fmt(r.mesh.perSec / r.raw.perSec, 2)} (target ≥ 0.70)`);
  console.log(`  raw amqplib with the mesh's fan-out (each message persistent, to both brokers): ${fmt(r.raw.fanoutPerSec)} msg/s, mesh/that ${fmt(r.mesh.perSec / r.raw.fanoutPerSec, 2)}`);
  console.log(`latency p50 mesh ${fmt(r.mesh.p50, 3).padStart(8)} ms     raw amqplib ${fmt(r.raw.p50, 3).padStart(8)} ms      ratio ${fmt(r.mesh.p50 / r.raw.p50, 2)} (target ≤ 1.3)`);
  const t = r.meshTransient;
  console.log(`meshDelivery 'transient': ${fmt(t.perSec)} ev/s (ratio ${fmt(t.perSec / r.raw.perSec, 2)}), p50 ${fmt(t.p50, 3)} ms (ratio ${fmt(t.p50 / r.raw.p50, 2)}), p99 ${fmt(t.p99, 3)} ms`);
  console.log(`latency p99 mesh ${fmt(r.mesh.p99, 3).padStart(8)} ms     raw amqplib ${fmt(r.raw.p99, 3).padStart(8)} ms      ratio ${fmt(r.mesh.p99 / r.raw.p99, 2)}`);
});

await section('scale', async () => {
  // the two topologies at the same M on the same brokers, in one run (the scale scenario's runner)
  const { ensureBuilt } = await import('../scripts/ensure-built.mjs');
  ensureBuilt(); // the instances run compiled
  const { runScale, formatScale } = await import('../ops/scenario/scale/scale.ts');
  const instances = Number(process.env.MIROS_BENCH_INSTANCES ?? 20);
  const durationS = Number(process.env.MIROS_BENCH_SECONDS ?? 20);
  const r = await runScale({ instances, nodes: 3, backend: 'local', topologies: ['clustered', 'mesh'], durationS, kill: false, log: () => {} });
  console.log(formatScale(r.summary));
  console.log(`summary: ${r.logDir}/summary.json (M = MIROS_BENCH_INSTANCES, default 20; seconds = MIROS_BENCH_SECONDS, default 20)`);
});

process.exitCode = failures ? 1 : 0;
