import type { Options } from 'amqplib';
// The three networks every node may join, and how they map onto RabbitMQ objects.
// Exchanges are durable topic exchanges (the reference used transient ones; durable
// exchanges keep bindings of durable queues across a broker restart, so a restart
// loses no mesh event).

export type NetworkName = 'mesh' | 'trace' | 'spy';

export const EXCHANGES: Record<NetworkName, string> = {
  mesh: 'miros.mesh.exchange',
  trace: 'miros.snoop.trace.exchange',
  spy: 'miros.snoop.spy.exchange',
};

/** Routing keys of the snoop networks (the mesh uses txRoutingKey / rxRoutingKey). */
export const SNOOP_ROUTING_KEYS = { trace: 'snoop.trace', spy: 'snoop.spy' } as const;

/** Signal names carried in the envelope of snoop messages. */
export const SNOOP_SIGNALS = { trace: 'SNOOP_TRACE', spy: 'SNOOP_SPY', scribble: 'SNOOP_SCRIBBLE' } as const;

/** Messages older than this are expired by the broker (the reference's 50 s; option messageTtl). */
export const MESSAGE_TTL_MS = 50_000;
/**
 * A chart's queues outlive it (unused) by this long by default (option queueExpiresMs): a crash
 * or a stop() keeps them for its restart; leave() deletes them.
 */
export const QUEUE_EXPIRES_MS = 10 * 60_000;

/** How a chart's queues are made: its topology, messageTtl and (default QUEUE_EXPIRES_MS) queue expiry. */
export interface QueueLimits {
  topology: TopologyKind;
  messageTtl: number;
  queueExpiresMs?: number;
}

/**
 * One durable queue per node and network on the node's own broker, named after the
 * chart: it survives a broker restart (with the persistent mesh messages in it), and
 * an exclusive consumer on it refuses a second process with the same chart name.
 */
export function queueName(network: NetworkName, chartName: string): string {
  return `miros.${network}.${chartName}`;
}

/** Where expired (or otherwise dead) messages of every chart's queues go, to be counted. */
export const DEAD_EXCHANGE = 'miros.dead.exchange';

export type TopologyKind = 'mesh' | 'clustered';

export interface QueuePlan {
  name: string;
  options: Options.AssertQueue;
  /** Exclusive on classic queues; quorum queues use single active consumer instead. */
  exclusiveConsumer: boolean;
}

/**
 * A chart's queue on one network. Mesh topology: classic and durable on the chart's own
 * broker, named after the chart (one broker per host). Clustered: one cluster for every
 * host, so the name includes the host; the mesh queue is a quorum queue (replicated: a
 * node's death loses no confirmed event) with single active consumer (quorum queues
 * ignore exclusive consumers); snoop queues stay classic and exclusive on the connected
 * node (replicating them would cost more than the lines are worth; a live view dies with
 * its connection anyway). Every queue dead-letters to DEAD_EXCHANGE with its own name as
 * the routing key, so expired events are counted per network.
 */
export function queuePlan(network: NetworkName, chart: string, host: string, o: QueueLimits): QueuePlan {
  const clustered = o.topology === 'clustered';
  const name = clustered ? `miros.${network}.${chart}@${host}` : queueName(network, chart);
  const dead = { 'x-dead-letter-exchange': DEAD_EXCHANGE, 'x-dead-letter-routing-key': name };
  if (clustered && network !== 'mesh') {
    return { name, options: { exclusive: true, durable: false, arguments: { 'x-message-ttl': o.messageTtl, ...dead } }, exclusiveConsumer: true };
  }
  const limits = { 'x-message-ttl': o.messageTtl, 'x-expires': o.queueExpiresMs ?? QUEUE_EXPIRES_MS, ...dead };
  if (!clustered) return { name, options: { durable: true, arguments: limits }, exclusiveConsumer: true };
  return {
    name,
    options: { durable: true, arguments: { 'x-queue-type': 'quorum', 'x-single-active-consumer': true, ...limits } },
    exclusiveConsumer: false,
  };
}

/** Where a chart's dead messages wait to be counted (bound to DEAD_EXCHANGE by each of its queue names). */
export function deadQueuePlan(chart: string, host: string, o: { topology: TopologyKind; queueExpiresMs?: number }): QueuePlan {
  const clustered = o.topology === 'clustered';
  const name = clustered ? `miros.dead.${chart}@${host}` : `miros.dead.${chart}`;
  const expires = o.queueExpiresMs ?? QUEUE_EXPIRES_MS;
  const args = clustered ? { 'x-queue-type': 'quorum', 'x-expires': expires } : { 'x-expires': expires };
  return { name, options: { durable: true, arguments: args }, exclusiveConsumer: false };
}

/**
 * Clustered: a queue that only one connection may hold (exclusive), declared by a chart's
 * receiver before it consumes, so a second live process with the same chart name on the same
 * host is refused (RESOURCE_LOCKED). The mesh queue's single active consumer would let it in
 * silently. It holds no messages (nothing is bound to it) and goes with its connection.
 */
export function lockQueuePlan(chart: string, host: string): QueuePlan {
  return { name: `miros.lock.${chart}@${host}`, options: { exclusive: true, durable: false, arguments: { 'x-queue-type': 'classic' } }, exclusiveConsumer: false };
}

/** AMQP header naming the sender in clear text, only used to report undecryptable messages. */
export const SENDER_HEADER = 'x-miros-sender';
