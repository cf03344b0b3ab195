// The few numbers an operator watches, taken from networkStats(): what the evidence file's
// `stats` lines hold every second and what the Prometheus metrics expose (docs/metrics.md).
import type { LinkSnapshot } from './broker-link.ts';
import type { StatsCounters } from './evidence.ts';
import type { NetworkStats } from './network-stats.ts';

/** A broker link's short name: host:port from its masked URL (clustered: "cluster(N nodes)"). */
export function brokerName(link: Pick<LinkSnapshot, 'broker'>): string {
  return /@([^/?]+)/.exec(link.broker)?.[1] ?? link.broker;
}

export function statsCounters(stats: NetworkStats, queue: number): StatsCounters {
  let confirmed = 0;
  let inFlight = 0;
  let outbox = 0;
  const links: StatsCounters['links'] = {};
  for (const b of stats.brokers) {
    confirmed += b.confirmed;
    inFlight += b.inFlight;
    outbox += b.queued;
    links[brokerName(b)] = b.state;
  }
  return {
    sent: stats.mesh.sent,
    confirmed,
    unconfirmed: inFlight + outbox,
    inFlight,
    outbox,
    delivered: stats.mesh.delivered,
    duplicates: stats.mesh.duplicates + stats.trace.duplicates + stats.spy.duplicates,
    drops: { ...stats.drops },
    queue,
    links,
  };
}
