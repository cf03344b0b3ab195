// A clustered testbed's membership as RabbitMQ reports it: each node's /api/nodes lists the
// members it knows, whether they run, and the nodes it is partitioned from.
import { httpGet } from './health.ts';
import type { ClusterFile, Credentials, NodeMembership, NodeStatus } from './types.ts';
import { until } from '../util/wait.ts';

interface ApiNode {
  name: string;
  running: boolean;
  partitions?: string[];
}

/** What the node at `managementUrl` reports of its cluster (asked as `auth`, the ops admin); undefined when its API does not answer. */
export async function membershipAt(managementUrl: string, auth: Credentials): Promise<NodeMembership | undefined> {
  try {
    const res = await httpGet(`${managementUrl}/api/nodes?columns=name,running,partitions`, auth);
    if (res.status !== 200) return undefined;
    const nodes = JSON.parse(res.body) as ApiNode[];
    return {
      running: nodes.filter((n) => n.running).map((n) => n.name).sort(),
      stopped: nodes.filter((n) => !n.running).map((n) => n.name).sort(),
      partitions: [...new Set(nodes.flatMap((n) => n.partitions ?? []))].sort(),
    };
  } catch {
    return undefined;
  }
}

/** Why `m` is not the healthy cluster of exactly `members`, or undefined when it is. */
export function membershipProblem(m: NodeMembership | undefined, members: string[]): string | undefined {
  if (!m) return 'its management API does not list the cluster (/api/nodes)';
  if (m.partitions.length) return `partitioned from ${m.partitions.join(', ')}`;
  const missing = members.filter((x) => !m.running.includes(x));
  if (missing.length) return `${missing.join(', ')} not running in its cluster (it sees ${m.running.join(', ') || 'none'})`;
  const strangers = [...m.running, ...m.stopped].filter((x) => !members.includes(x));
  if (strangers.length) return `its cluster also has ${strangers.join(', ')}`;
  return undefined;
}

/** Waits until the node at `managementUrl` sees exactly `members` running; the last problem, or undefined. */
export async function waitMembers(managementUrl: string, auth: Credentials, members: string[], timeoutMs: number): Promise<string | undefined> {
  let problem: string | undefined = 'not asked yet';
  await until(async () => (problem = membershipProblem(await membershipAt(managementUrl, auth), members)) === undefined, timeoutMs, 500);
  return problem;
}

/**
 * Adds the node's own view of its cluster (/api/nodes), whatever was recorded. Clustered: a
 * node that sees a partition is 'partitioned', one that does not see exactly the recorded
 * members running is unhealthy. Mesh: a node whose broker reports other members (data of an
 * earlier clustered testbed) is unhealthy, and says how to reset it.
 */
export async function withMembership(file: ClusterFile | undefined, st: NodeStatus, auth: Credentials): Promise<NodeStatus> {
  if (!st.healthy) return st;
  const membership = await membershipAt(st.node.managementUrl, auth);
  if (!file?.cluster) {
    if (!membership) return st; // a mesh node is healthy without /api/nodes; its own probes said so
    const others = [...membership.running, ...membership.stopped].filter((x) => x !== st.node.erlangNode);
    if (!others.length) return { ...st, membership };
    return { ...st, membership, state: 'unhealthy', healthy: false, detail: `a mesh node, but its broker reports a cluster with ${others.join(', ')}: mirosnet cluster down, then up (resets its data)` };
  }
  const problem = membershipProblem(membership, file.cluster.members);
  if (!problem) return { ...st, ...(membership ? { membership } : {}) };
  return { ...st, ...(membership ? { membership } : {}), state: membership?.partitions.length ? 'partitioned' : 'unhealthy', healthy: false, detail: problem };
}
