// Broker moves used by scenarios: stop one node's RabbitMQ (SIGTERM to the beam pid from
// cluster.json, then wait until the process is gone) and bring nodes (back) up.
import { readClusterFile, status, up, type ClusterFile } from '../cluster/index.ts';
import { until } from '../util/wait.ts';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Stops node `index` (0-based) if it runs; resolves once its beam is gone. */
export async function stopBroker(dir: string, index: number, timeoutMs = 60_000): Promise<boolean> {
  const s = await status({ dir });
  const n = s.nodes.find((x) => x.node.index === index + 1) ?? s.nodes[index];
  if (!n || n.state === 'down' || !alive(n.node.pid)) return false;
  process.kill(n.node.pid, 'SIGTERM');
  if (!(await until(() => !alive(n.node.pid), timeoutMs, 100))) {
    throw new Error(`broker ${n.node.name} (pid ${n.node.pid}) still running ${timeoutMs} ms after SIGTERM`);
  }
  return true;
}

/** Brings at least `count` nodes up (restarting stopped ones; never removes any). */
export async function startBrokers(dir: string, count: number, log: (l: string) => void = () => {}): Promise<ClusterFile> {
  const s = await status({ dir });
  await up({ dir, nodes: Math.max(count, s.nodes.length), log });
  return readClusterFile(dir)!;
}
