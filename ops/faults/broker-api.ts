// Faults the broker itself does to an instance or to itself: it closes an instance's
// connections, deletes a chart's queues (management API, management.ts), or raises a
// resource alarm (rabbitmqctl on the node: the documented way to block publishers).
import { ClusterError } from '../cluster/errors.ts';
import { openCluster } from '../cluster/index.ts';
import { until } from '../util/wait.ts';
import { killInstance } from './instances.ts';
import { management } from './management.ts';
import { type FaultOptions, type FaultRecord, record } from './record.ts';

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

interface ApiConnection {
  name: string;
  client_properties?: { connection_name?: string };
}

/**
 * The broker closes every AMQP connection of instance `name` (DELETE /api/connections/NAME on
 * each node that has one): its links see a connection error and reconnect, the broker
 * redelivers what was unacked. Its connections are named "miros/ROLE NAME[pid]@host" (the
 * instance's processName is its name). `kill`: SIGKILL the instance right after (undo:
 * restart-instance).
 */
/** How long the management API's connection listing may lag a fresh connection. */
const CONNECTION_LISTING_LAG_MS = 10_000;

export async function dropConnections(name: string, kill: boolean, opts: FaultOptions = {}): Promise<FaultRecord> {
  const c = await openCluster(opts);
  const mine = new RegExp(`^miros/(pub|sub|snoop) ${escapeRe(name)}\\[`);
  const closed: string[] = [];
  const unreachable: string[] = [];
  const dropOnce = async () => {
    for (const node of c.file.nodes) {
      let list: ApiConnection[];
      try {
        list = (await management(c, node, 'GET', '/api/connections?columns=name,client_properties')) as ApiConnection[];
      } catch {
        unreachable.push(node.name); // a node down or cut off right now (chaos): the others still count
        continue;
      }
      // a clustered testbed lists every member's connections on every node: each is closed once
      for (const conn of list.filter((x) => mine.test(x.client_properties?.connection_name ?? '') && !closed.some((d) => d.includes(`(${x.name})`)))) {
        await management(c, node, 'DELETE', `/api/connections/${encodeURIComponent(conn.name)}`).catch(() => undefined); // gone meanwhile
        closed.push(`${conn.client_properties?.connection_name} (${conn.name}) on ${node.name}`);
      }
    }
    return closed.length > 0;
  };
  // the listing lags the connections by a few seconds (the management stats): an instance that
  // has just (re)connected may not be in it yet
  await until(dropOnce, CONNECTION_LISTING_LAG_MS, 500);
  if (!closed.length) throw new ClusterError(`drop-connections: no broker has a connection of instance '${name}'${unreachable.length ? ` (unreachable: ${[...new Set(unreachable)].join(', ')})` : ''}`, 'is it running? its connections are named "miros/pub|sub NAME[pid]@host" (GET /api/connections)');
  let detail = `closed ${closed.length} connection(s): ${closed.join(', ')}`;
  if (!kill) return record('drop-connections', [name], c.backend.kind, detail);
  detail += `; then ${(await killInstance(name, opts)).detail}`;
  return record('drop-connections', [name], c.backend.kind, detail, { kind: 'restart-instance', target: [name] });
}

interface ApiQueue {
  name: string;
  vhost: string;
  messages?: number;
}

/**
 * Deletes chart `chart`'s queues (miros.{mesh,trace,spy}.CHART, and CHART@host in the
 * clustered topology) through the management API. The record's `removed` is the mesh
 * queues' depth just before deletion (the management API's figure: its statistics may lag a
 * few seconds), so a checker counts those events as removed by the fault, not lost. The chart
 * consumes nothing more until it re-declares its queues (restart-instance).
 */
export async function deleteQueue(chart: string, opts: FaultOptions = {}): Promise<FaultRecord> {
  const c = await openCluster(opts);
  const ours = new RegExp(`^miros\\.(mesh|trace|spy)\\.${escapeRe(chart)}(@.*)?$`);
  const done = new Set<string>();
  const deleted: string[] = [];
  let removed = 0;
  for (const node of c.file.nodes) {
    const list = (await management(c, node, 'GET', '/api/queues?columns=name,vhost,messages')) as ApiQueue[];
    for (const q of list.filter((x) => ours.test(x.name) && !done.has(`${x.vhost}/${x.name}`))) {
      done.add(`${q.vhost}/${q.name}`);
      const fresh = (await management(c, node, 'GET', `/api/queues/${encodeURIComponent(q.vhost)}/${encodeURIComponent(q.name)}?columns=messages`)) as ApiQueue;
      await management(c, node, 'DELETE', `/api/queues/${encodeURIComponent(q.vhost)}/${encodeURIComponent(q.name)}`);
      const depth = fresh.messages ?? 0;
      if (q.name.startsWith('miros.mesh.')) removed += depth;
      deleted.push(`${q.name} on ${node.name} (${depth} messages)`);
    }
  }
  if (!deleted.length) throw new ClusterError(`delete-queue: no broker has a queue of chart '${chart}'`, 'its queues are miros.mesh|trace|spy.CHART (GET /api/queues)');
  return { ...record('delete-queue', [chart], c.backend.kind, `deleted ${deleted.join(', ')}`, { kind: 'restart-instance', target: [chart] }), removed };
}

export type AlarmKind = 'memory' | 'disk';

/** What raises and what clears each alarm (RabbitMQ's defaults restored: watermark 0.4, disk limit 50MB). */
const ALARM: Record<AlarmKind, { raise: string[]; clear: string[] }> = {
  memory: { raise: ['set_vm_memory_high_watermark', '0'], clear: ['set_vm_memory_high_watermark', '0.4'] },
  disk: { raise: ['set_disk_free_limit', '1000000GB'], clear: ['set_disk_free_limit', '50MB'] },
};

const alarmKind = (which: string | undefined): AlarmKind => {
  if (which === undefined || which === 'memory' || which === 'disk') return which ?? 'memory';
  throw new ClusterError(`alarm: the kind is memory or disk, got ${which}`);
};

/** Raises the broker's memory (or disk) alarm: every publishing connection to it is blocked. Undo: clear-alarm. */
export async function alarm(ref: string, which: string | undefined, opts: FaultOptions = {}): Promise<FaultRecord> {
  const c = await openCluster(opts);
  const node = c.node(ref);
  const kind = alarmKind(which);
  await c.backend.rabbitmqctl(c.options, node, ALARM[kind].raise);
  return record('alarm', [node.name, kind], c.backend.kind, `rabbitmqctl -n ${node.erlangNode} ${ALARM[kind].raise.join(' ')}`, { kind: 'clear-alarm', target: [node.name, kind] });
}

/** Clears the alarm: the threshold back to RabbitMQ's default. */
export async function clearAlarm(ref: string, which: string | undefined, opts: FaultOptions = {}): Promise<FaultRecord> {
  const c = await openCluster(opts);
  const node = c.node(ref);
  const kind = alarmKind(which);
  await c.backend.rabbitmqctl(c.options, node, ALARM[kind].clear);
  return record('clear-alarm', [node.name, kind], c.backend.kind, `rabbitmqctl -n ${node.erlangNode} ${ALARM[kind].clear.join(' ')}`);
}
