// networkStats(): a chart's figures gathered from its parts (the publisher's, the inbox's
// receiver's, the brokers' links), drops mapped to the reasons network-stats.ts documents.
import type { Brokers } from './brokers.ts';
import type { Inbox } from './inbox.ts';
import type { NetworkStats } from './network-stats.ts';
import type { Publisher } from './publisher.ts';
import { newCounters } from './receiver.ts';
import type { Topology } from './config.ts';
import type { LamportClock } from './lamport.ts';
import type { WarningLimiter } from './warning-limiter.ts';

/** Dead-letter reasons RabbitMQ gives besides 'expired' (x-death), kept as they are in `drops`. */
const DEAD_REASONS = { maxlen: true, rejected: true, delivery_limit: true, dead: true } as const;
/** Security-relevant reasons kept as they are in `drops` (SECURITY.md). */
const SECURITY_REASONS = { misrouted: true, unbound: true, replay: true } as const;

export interface ChartParts {
  topology: Topology;
  publisher: Publisher;
  inbox: Inbox;
  brokers: Brokers;
  clock: LamportClock;
  limited: WarningLimiter;
}

export function chartStats({ topology, publisher, inbox, brokers, clock, limited }: ChartParts): NetworkStats {
  const receiver = inbox.receiver;
  const counters = receiver?.counters;
  const zero = newCounters;
  const drops: Record<string, number> = {};
  for (const c of Object.values(counters ?? {})) {
    for (const [reason, n] of Object.entries(c.droppedBy)) {
      const key = reason === 'undecryptable' || reason === 'expired' || reason in DEAD_REASONS || reason in SECURITY_REASONS ? reason : 'malformed';
      drops[key] = (drops[key] ?? 0) + n;
    }
  }
  if (publisher.deliveryErrors > 0) drops.overflow = publisher.deliveryErrors;
  if (brokers.departedDrops > 0) drops.departed = brokers.departedDrops;
  const links = [...brokers.links.values()].map((link) => link.snapshot());
  const resends = { total: 0, nack: 0, lost: 0, stalled: 0 };
  for (const b of links) {
    resends.total += b.resent;
    resends.nack += b.resentBy.nack;
    resends.lost += b.resentBy.lost;
    resends.stalled += b.resentBy.stalled;
  }
  const selfDropped = inbox.selfDropped;
  return {
    topology,
    // mesh.delivered: events posted into this chart; mesh.self: our own events that came back
    mesh: {
      ...(counters?.mesh ?? zero()),
      delivered: (counters?.mesh.delivered ?? 0) - selfDropped,
      sent: publisher.sent.mesh,
      self: selfDropped + (counters?.mesh.own ?? 0),
    },
    trace: { ...(counters?.trace ?? zero()), sent: publisher.sent.trace },
    spy: { ...(counters?.spy ?? zero()), sent: publisher.sent.spy },
    deliveryErrors: publisher.deliveryErrors,
    brokers: links,
    refusedBrokers: brokers.reported.refused.size,
    receiving: receiver?.snapshot() ?? { state: 'closed', cancels: 0 },
    resends,
    redeliveries: Object.values(counters ?? {}).reduce((n, c) => n + c.redelivered, 0),
    blockedBrokers: links.filter((b) => b.state === 'blocked').length,
    drops,
    meshRecords: { ...publisher.meshRecords },
    lamport: clock.time,
    bookkeeping: {
      ...(receiver?.bookkeeping ?? { dedupWindowsShed: 0, reportsShed: 0, replayStreamsShed: 0, replayReanchored: 0 }),
      reportsShed: (receiver?.bookkeeping.reportsShed ?? 0) + brokers.reportedHosts.shed,
      hostsRefused: brokers.hostsRefused.outside,
      hostsOverLimit: brokers.hostsRefused.overLimit,
    },
    warnings: limited.stats,
  };
}
