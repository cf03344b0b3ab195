// A NetworkStats as networkStats() returns it, for the tests of what is computed from it
// (stats lines, Prometheus metrics): defaults for every field, the counters that matter given.
import type { LinkSnapshot } from '../../runtime/net/broker-link.ts';
import type { NetworkStats } from '../../runtime/net/miros-nets.ts';
import { newCounters } from '../../runtime/net/receiver.ts';

/** A network's counters with `duplicates` copies dropped (and nothing else happened). */
export const netCounters = (duplicates: number) => ({ ...newCounters(), duplicates, sent: 0 });

/** A link to `broker` in `state` with these outbox figures (`sent` defaults to confirmed + in flight). */
export function linkSnapshot(broker: string, state: 'up' | 'down', queued: number, inFlight: number, confirmed: number, sent = 0): LinkSnapshot {
  return {
    broker, state, machine: state === 'up' ? 'up' : 'backoff', queued, inFlight, confirmed, sent, maxInFlight: 256, resent: 0, resentBy: { nack: 0, lost: 0, stalled: 0 }, nacked: 0, overflowed: 0, held: false,
    reconnects: 0, failedAttempts: 0, stalledChannels: 0, nackingChannels: 0, closedChannels: 0, blocked: { count: 0, totalMs: 0 },
  };
}

export function networkStats(over: Partial<NetworkStats> = {}): NetworkStats {
  return {
    topology: 'mesh',
    mesh: { ...netCounters(0), self: 0 },
    trace: netCounters(0),
    spy: netCounters(0),
    deliveryErrors: 0,
    brokers: [],
    refusedBrokers: 0,
    receiving: { state: 'up', cancels: 0 },
    resends: { total: 0, nack: 0, lost: 0, stalled: 0 },
    redeliveries: 0,
    blockedBrokers: 0,
    drops: {},
    meshRecords: { send: 0, receive: 0 },
    lamport: 0,
    bookkeeping: { dedupWindowsShed: 0, reportsShed: 0, replayStreamsShed: 0, replayReanchored: 0, hostsRefused: 0, hostsOverLimit: 0 },
    warnings: { suppressed: 0, shedKeys: 0 },
    ...over,
  };
}
