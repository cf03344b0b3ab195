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

/** Messages older than this are dropped by the broker (the reference's 50 s). */
export const MESSAGE_TTL_MS = 50_000;
/** A node's queue outlives its node by this long (covers a crash; stop() deletes it). */
export const QUEUE_EXPIRES_MS = 10 * 60_000;

/**
 * One durable queue per node and network on the node's own broker, named after the
 * chart: it survives a broker restart (with the persistent mesh messages in it), and
 * an exclusive consumer on it refuses a second process with the same chart name.
 */
export function queueName(network: NetworkName, chartName: string): string {
  return `miros.${network}.${chartName}`;
}

/** AMQP header naming the sender in clear text, only used to report undecryptable messages. */
export const SENDER_HEADER = 'x-miros-sender';
