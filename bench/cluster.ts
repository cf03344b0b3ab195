// Cluster start time: 1 node vs 3 nodes, wall time from `up()` to every node
// healthy (AMQP port open and /api/overview answering as peter), each on a
// fresh isolated cluster (own temp dir, 127.0.2.x, its own epmd), torn down after;
// and the CPU seconds a node burns from start to ready (its whole process session),
// which sets the floor two cores impose on starting three: 3 × CPU / 2 cores.
// Run: npx tsx bench/cluster.ts   (options: --rounds N, --erl-args '+S 1:1',
//      --variants 'ARGS|ARGS|…': one node started with each set of emulator flags, compared)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { down, up } from '../ops/cluster/index.ts';
import { rssMb, sessionCpuSeconds } from '../ops/cluster/process.ts';

export interface ClusterBench {
  oneNodeMs: number;
  threeNodesMs: number;
  /** threeNodesMs / oneNodeMs; target ≤ 1.3 */
  ratio: number;
  /** Mean resident memory of a node (beam.smp) right after start, with management. */
  rssPerNodeMb: number;
  /** CPU seconds one node burnt from start to ready (1-node cluster; its whole session). */
  cpuSecondsPerNode: number;
  /** The same, per node, when three start together. */
  cpuSecondsPerNodeOfThree: number;
  /** The least 3-node/1-node ratio two cores allow: 3 nodes' CPU over 2 cores, against one node's wall time. */
  floorRatio: number;
  /** --variants: one node per set of emulator flags, its wall time and CPU seconds. */
  variants?: { erlArgs: string; ms: number; cpuSeconds: number }[];
}

export interface ClusterBenchOptions {
  /** Rounds per size; the median is reported (default 1). */
  rounds?: number;
  /** Extra emulator flags for every node (see ops/cluster/options.ts). */
  erlArgs?: string;
  /** Sets of emulator flags to compare on one node each (after the main figures). */
  variants?: string[];
  log?: (line: string) => void;
}

async function timeUp(nodes: number, o: ClusterBenchOptions): Promise<{ ms: number; rss: number[]; cpu: number[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'mirosnet-bench-'));
  const common = { dir, addressBase: '127.0.2.11', namePrefix: 'b', distPortBase: 25880, epmdPort: 4372, log: () => {} };
  try {
    const t0 = performance.now();
    const cluster = await up({ ...common, nodes, erlArgs: o.erlArgs });
    const ms = performance.now() - t0;
    const cpu = cluster.nodes.map((n) => sessionCpuSeconds(n.pid) ?? Number.NaN);
    const rss = cluster.nodes.map((n) => rssMb(n.pid) ?? 0);
    await cluster.stop();
    return { ms, rss, cpu };
  } finally {
    await down({ dir, log: () => {} }).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function benchCluster(o: ClusterBenchOptions = {}): Promise<ClusterBench> {
  const log = o.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const rounds = o.rounds ?? 1;
  const one: number[] = [];
  const three: number[] = [];
  const rss: number[] = [];
  const cpuOne: number[] = [];
  const cpuThree: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const a = await timeUp(1, o);
    one.push(a.ms);
    cpuOne.push(...a.cpu);
    log(`cluster bench: 1 node ready in ${(a.ms / 1000).toFixed(1)} s, ${a.cpu[0].toFixed(1)} CPU-s`);
    const b = await timeUp(3, o);
    three.push(b.ms);
    rss.push(...b.rss);
    cpuThree.push(...b.cpu);
    log(`cluster bench: 3 nodes ready in ${(b.ms / 1000).toFixed(1)} s, ${b.cpu.map((c) => c.toFixed(1)).join(' + ')} CPU-s`);
  }
  const oneNodeMs = Math.round(median(one));
  const threeNodesMs = Math.round(median(three));
  const cpuSecondsPerNode = round2(median(cpuOne));
  const variants: ClusterBench['variants'] = [];
  for (const erlArgs of o.variants ?? []) {
    const v = await timeUp(1, { ...o, erlArgs });
    variants.push({ erlArgs, ms: Math.round(v.ms), cpuSeconds: round2(v.cpu[0]) });
    log(`cluster bench: 1 node with '${erlArgs}' ready in ${(v.ms / 1000).toFixed(1)} s, ${v.cpu[0].toFixed(1)} CPU-s`);
  }
  return {
    oneNodeMs,
    threeNodesMs,
    ratio: round2(threeNodesMs / oneNodeMs),
    rssPerNodeMb: Math.round(rss.reduce((s, x) => s + x, 0) / rss.length),
    cpuSecondsPerNode,
    cpuSecondsPerNodeOfThree: round2(median(cpuThree)),
    floorRatio: round2(Math.max(1, (3 * cpuSecondsPerNode * 1000) / 2 / oneNodeMs)),
    ...(variants.length ? { variants } : {}),
  };
}

const round2 = (x: number) => Math.round(x * 100) / 100;

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const flag = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const variants = flag('--variants')?.split('|').map((v) => v.trim());
  const r = await benchCluster({ rounds: Number(flag('--rounds') ?? 1), erlArgs: flag('--erl-args'), variants });
  console.log(JSON.stringify(r, null, 2));
}
