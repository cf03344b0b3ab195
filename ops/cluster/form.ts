// Forming one RabbitMQ cluster out of a testbed's nodes (topology 'clustered'), shared by
// every backend: the seed (node 1) starts first, then the rest in parallel; classic-config
// peer discovery (ops/rabbit-config) joins blank nodes at first boot, `join` the others.
import type { ClusterMembership } from '../../runtime/lan/index.ts';
import { ClusterError } from './errors.ts';
import { ensureAdminCredentials } from './admin-secret.ts';
import { membershipAt, waitMembers } from './membership.ts';
import { managementUrl } from './options.ts';
import { NET_TICKTIME_S, partitionHandlingFor } from '../rabbit-config/model.ts';
import type { ResolvedOptions } from './types.ts';

/** What forming needs of a node, whatever the backend. */
export interface MemberSpec {
  name: string;
  host: string;
  erlangNode: string;
}

/**
 * Starts every node: mesh all at once; clustered the seed first and the rest once it is
 * ready. → classic config has no formation lock: blank nodes booting together can form
 * separate clusters. When the seed fails the others are not started.
 */
export async function startNodes<S extends MemberSpec>(
  o: ResolvedOptions,
  wanted: S[],
  start: (spec: S) => Promise<unknown>,
  /** Nodes whose kept data is one cluster (node-data.ts): they start at once, each waiting for the others' tables, then the rest. */
  together: ReadonlySet<string> = new Set(),
): Promise<PromiseSettledResult<unknown>[]> {
  if (o.topology !== 'clustered' || wanted.length < 2) return Promise.allSettled(wanted.map(start));
  if (together.size) {
    const results = new Map<S, PromiseSettledResult<unknown>>();
    const first = wanted.filter((s) => together.has(s.name));
    (await Promise.allSettled(first.map(start))).forEach((r, i) => results.set(first[i], r));
    const rest = wanted.filter((s) => !together.has(s.name));
    if ([...results.values()].some((r) => r.status === 'rejected')) {
      for (const s of rest) results.set(s, { status: 'rejected', reason: new ClusterError(`${s.name}: not started, because the members it would join failed`, '') });
    } else (await Promise.allSettled(rest.map(start))).forEach((r, i) => results.set(rest[i], r));
    return wanted.map((s) => results.get(s)!);
  }
  const [seed, ...rest] = wanted;
  const [first] = await Promise.allSettled([start(seed)]);
  if (first.status === 'rejected') {
    return [first, ...rest.map((s): PromiseRejectedResult => ({ status: 'rejected', reason: new ClusterError(`${s.name}: not started, because the seed ${seed.name} failed`, '') }))];
  }
  return [first, ...(await Promise.allSettled(rest.map(start)))];
}

/**
 * Makes the running nodes one cluster of exactly `wanted` (the seed's view decides who is
 * missing: those `join`), waits until every node sees all of them running and no partition,
 * and returns cluster.json's `cluster`.
 */
export async function formCluster<S extends MemberSpec>(
  o: ResolvedOptions,
  wanted: S[],
  join: (node: S, seed: S) => Promise<void>,
  startedAt: number,
  timeoutMs = 90_000,
): Promise<ClusterMembership> {
  const members = wanted.map((s) => s.erlangNode);
  const [seed] = wanted;
  const admin = ensureAdminCredentials(o.dir);
  const view = await membershipAt(managementUrl(seed.host), admin);
  const known = new Set([...(view?.running ?? []), ...(view?.stopped ?? [])]);
  for (const node of wanted.slice(1)) if (!known.has(node.erlangNode)) await join(node, seed);
  const problems = await Promise.all(wanted.map(async (s) => [s, await waitMembers(managementUrl(s.host), admin, members, timeoutMs)] as const));
  const bad = problems.filter(([, p]) => p !== undefined);
  if (bad.length) {
    throw new ClusterError(
      `the nodes did not form one cluster of ${members.length}: ${bad.map(([s, p]) => `${s.name}: ${p}`).join('; ')}`,
      `see the nodes' logs (mirosnet cluster logs ${bad[0][0].name}); start afresh: mirosnet cluster down --purge, then up`,
    );
  }
  o.log(`cluster of ${members.length} formed in ${((Date.now() - startedAt) / 1000).toFixed(1)} s: ${members.join(', ')}`);
  return { members, partitionHandling: partitionHandlingFor(members.length), netTicktime: NET_TICKTIME_S };
}
