// What a stopped node's data remembers (local and netns backends): the cluster its Mnesia
// lists (cluster_nodes.config) and the topology mirosnet started it as. `up` resets data
// that would bring back another cluster than the one asked for: a mesh node whose data
// still lists the members of an earlier clustered testbed boots into that cluster again (and
// waits minutes for a member that is not coming back).
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClusterTopology } from './types.ts';

/** What `up` knows of one wanted node's data. */
export interface NodeData {
  name: string;
  erlangNode: string;
  /** Every member its Mnesia lists (itself included), sorted; undefined when it has no data. */
  members?: string[];
  /** The topology mirosnet last started it as; undefined when not recorded (no data, or an older mirosnet). */
  topology?: ClusterTopology;
}

/** A node whose data `up` resets, and why. */
export interface StaleData {
  name: string;
  reason: string;
}

const MARKER = 'mirosnet-topology';

/** The Mnesia directory RabbitMQ uses under RABBITMQ_MNESIA_BASE. */
const mnesiaDir = (dataDir: string, erlangNode: string) => join(dataDir, erlangNode);

/** The members `{[All], [Disc]}.` lists (RabbitMQ 3.x writes it at every membership change), or undefined without data. */
export function parseClusterNodes(text: string): string[] | undefined {
  const all = /^\s*\{\s*\[([^\]]*)\]/.exec(text);
  if (!all) return undefined;
  const names = [...all[1].matchAll(/'([^']+)'|([A-Za-z][\w.@-]*)/g)].map((m) => m[1] ?? m[2]);
  return [...new Set(names)].sort();
}

/** What the node's data at `dataDir` remembers. */
export function readNodeData(node: { name: string; erlangNode: string; dataDir: string }): NodeData {
  const file = join(mnesiaDir(node.dataDir, node.erlangNode), 'cluster_nodes.config');
  const marker = join(node.dataDir, MARKER);
  const members = existsSync(file) ? parseClusterNodes(readFileSync(file, 'utf8')) : undefined;
  const recorded = existsSync(marker) ? readFileSync(marker, 'utf8').trim() : undefined;
  const topology = recorded === 'mesh' || recorded === 'clustered' ? recorded : undefined;
  return { name: node.name, erlangNode: node.erlangNode, members, topology };
}

/** Records the topology a node is started as, beside its data. */
export function markTopology(dataDir: string, topology: ClusterTopology): void {
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(join(dataDir, MARKER), `${topology}\n`);
}

/** Deletes the node's data (its logs stay). */
export function resetNodeData(dataDir: string): void {
  rmSync(dataDir, { recursive: true, force: true });
}

const sameSet = (a: string[] | undefined, b: string[] | undefined) => a !== undefined && b !== undefined && a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * The wanted nodes whose data must go before a `topology` testbed of exactly `wanted` can start:
 * data recorded as another topology; in a mesh, data that lists any other member; clustered,
 * data that lists a member outside `wanted`, or members whose own data does not list the same
 * cluster back (one of them was reset, or left). Resetting one node can make its peers'
 * data disagree, so this repeats until nothing changes.
 */
export function staleData(topology: ClusterTopology, wanted: NodeData[]): StaleData[] {
  const views = new Map(wanted.map((n) => [n.erlangNode, n.members]));
  const stale: StaleData[] = [];
  const wantedNodes = new Set(wanted.map((n) => n.erlangNode));
  for (let changed = true; changed; ) {
    changed = false;
    for (const n of wanted) {
      const members = views.get(n.erlangNode);
      if (!members) continue;
      const others = members.filter((m) => m !== n.erlangNode);
      let reason: string | undefined;
      if (n.topology && n.topology !== topology) reason = `its data is of a ${n.topology} testbed`;
      else if (topology === 'mesh' && others.length) reason = `its data is a cluster with ${others.join(', ')}`;
      else if (topology === 'clustered') {
        const outside = others.filter((m) => !wantedNodes.has(m));
        const disagree = others.filter((m) => !sameSet(views.get(m), members));
        if (outside.length) reason = `its data is a cluster with ${outside.join(', ')}, outside the ${wanted.length} asked for`;
        else if (disagree.length) reason = `its data is a cluster with ${disagree.join(', ')}, whose data no longer lists the same cluster`;
      }
      if (reason) {
        stale.push({ name: n.name, reason });
        views.set(n.erlangNode, undefined);
        changed = true;
      }
    }
  }
  return stale.sort((a, b) => wanted.findIndex((n) => n.name === a.name) - wanted.findIndex((n) => n.name === b.name));
}

/** The nodes (of those with kept data) that were one cluster: they start together, each waits for the others' tables. */
export function restartingMembers(wanted: NodeData[], stale: StaleData[]): Set<string> {
  const reset = new Set(stale.map((s) => s.name));
  return new Set(wanted.filter((n) => !reset.has(n.name) && (n.members?.length ?? 0) > 1).map((n) => n.name));
}

/**
 * `cluster down --purge`, on every backend: deletes the nodes' directories (data, logs,
 * config) and the testbed's records in `dir` (the Erlang cookie, epmd logs, the faults in
 * force, the password file). The TLS directory and the ops admin's credentials stay.
 */
export function purgeTestbedFiles(dir: string, nodeNames: readonly string[]): void {
  for (const name of nodeNames) rmSync(join(dir, name), { recursive: true, force: true });
  if (!existsSync(dir)) return;
  for (const f of readdirSync(dir)) {
    if (f === '.erlang.cookie' || /^epmd.*\.log$/.test(f) || f === 'faults-in-force.json' || f === 'rabbit-password') rmSync(join(dir, f), { force: true });
  }
}
