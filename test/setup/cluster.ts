// vitest globalSetup of the `integration` project: the shared 3-node local
// cluster (<repo>/.cluster). Reuses a healthy running one; otherwise brings it
// up. At the end it is taken down only if this setup started it, and never
// with KEEP_CLUSTER=1. Tests read it with clusterInfo() (cluster-info.ts) or
// from the file named by $MIROS_CLUSTER_FILE.
import type { TestProject } from 'vitest/node';
import { clusterFilePath, defaultDir, down, readClusterFile, status, up } from '../../ops/cluster/index.ts';
import type {} from './cluster-info.ts'; // ProvidedContext['cluster']

const log = (line: string) => process.stderr.write(`[cluster] ${line}\n`);

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = defaultDir();
  const keep = process.env.KEEP_CLUSTER === '1';
  const before = await status({ dir });
  const reusable = before.up && before.nodes.length >= 3 && before.nodes.every((n) => n.healthy);
  const startedHere = !before.nodes.some((n) => n.state !== 'down'); // nothing of it was running
  const info = reusable ? readClusterFile(dir)! : (await up({ dir, nodes: Math.max(3, before.nodes.length), log })).file;
  log(
    `${reusable ? 'reusing' : 'up:'} ${info.nodes.map((n) => `${n.name} ${n.host}`).join(', ')}` +
      (keep ? ' (KEEP_CLUSTER=1: stays up)' : startedHere ? '' : ' (was already running: stays up)'),
  );
  process.env.MIROS_CLUSTER_FILE = clusterFilePath(dir);
  project.provide('cluster', info);

  return async () => {
    if (keep || !startedHere) return;
    await down({ dir, log });
  };
}
