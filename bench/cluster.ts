// Cluster start time: 1 node vs 3 nodes, wall time from `up()` to every node
// healthy (AMQP port open and /api/overview answering as peter), each on a
// fresh isolated cluster (own temp dir, 127.0.2.x, its own epmd), torn down after.
// Run: npx tsx bench/cluster.ts   (options: --rounds N, --erl-args '+S 1:1')
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { down, up } from '../ops/cluster/index.ts';
import { rssMb } from '../ops/cluster/process.ts';

export interface ClusterBench {
  oneNodeMs: number;
  threeNodesMs: number;
  /** threeNodesMs / oneNodeMs; target ≤ 1.3 */
  ratio: number;
  /** Mean resident memory of a node (beam.smp) right after start, with management. */
  rssPerNodeMb: number;
}

export interface ClusterBenchOptions {
  /** Rounds per size; the median is reported (default 1). */
  rounds?: number;
  /** Extra emulator flags for every node (see ops/cluster/options.ts). */
  erlArgs?: string;
  log?: (line: string) => void;
}

async function timeUp(nodes: number, o: ClusterBenchOptions): Promise<{ ms: number; rss: number[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'mirosnet-bench-'));
  const common = { dir, addressBase: '127.0.2.11', namePrefix: 'b', distPortBase: 25880, epmdPort: 4372, log: () => {} };
  try {
    const t0 = performance.now();
    const cluster = await up({ ...common, nodes, erlArgs: o.erlArgs });
    const ms = performance.now() - t0;
    const rss = cluster.nodes.map((n) => rssMb(n.pid) ?? 0);
    await cluster.stop();
    return { ms, rss };
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
  for (let r = 0; r < rounds; r++) {
    const a = await timeUp(1, o);
    one.push(a.ms);
    log(`cluster bench: 1 node ready in ${(a.ms / 1000).toFixed(1)} s`);
    const b = await timeUp(3, o);
    three.push(b.ms);
    rss.push(...b.rss);
    log(`cluster bench: 3 nodes ready in ${(b.ms / 1000).toFixed(1)} s`);
  }
  const oneNodeMs = Math.round(median(one));
  const threeNodesMs = Math.round(median(three));
  return {
    oneNodeMs,
    threeNodesMs,
    ratio: Math.round((threeNodesMs / oneNodeMs) * 100) / 100,
    rssPerNodeMb: Math.round(rss.reduce((s, x) => s + x, 0) / rss.length),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const flag = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const r = await benchCluster({ rounds: Number(flag('--rounds') ?? 1), erlArgs: flag('--erl-args') });
  console.log(`cluster start: 1 node ${(r.oneNodeMs / 1000).toFixed(1)} s, 3 nodes ${(r.threeNodesMs / 1000).toFixed(1)} s, ratio ${r.ratio} (target ≤ 1.3), RSS ${r.rssPerNodeMb} MB/node`);
}
