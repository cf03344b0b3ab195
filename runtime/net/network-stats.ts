// What networkStats() reports: a chart's counters and the state of its links and consumer.
// Its own module, so that what reads the figures (run-stats.ts, metrics.ts) does not import
// the coordinator that makes them.
import type { LinkSnapshot } from './broker-link.ts';
import type { NetworkCounters, ReceiverSnapshot } from './receiver.ts';
import type { WarningCounts } from './warning-limiter.ts';

export interface NetworkStats {
  topology: 'mesh' | 'clustered';
  mesh: NetworkCounters & { sent: number; self: number };
  trace: NetworkCounters & { sent: number };
  spy: NetworkCounters & { sent: number };
  deliveryErrors: number;
  /**
   * One per broker linked to: `state` ('up' | 'blocked' | 'connecting' | 'down' | 'refused' | 'closed'),
   * `machine` (the link machine's state, link-machine.ts: 'idle' | 'connecting' | 'up' | 'blocked' |
   * 'backoff' | 'failed' | 'closed'), `lastError`, outbox.
   */
  brokers: LinkSnapshot[];
  /** Brokers that refused our credentials or vhost (their links are not retried). */
  refusedBrokers: number;
  /** The chart's consuming side: 'up', 'resubscribing' (after the broker cancelled a consumer), 'connecting', 'closed'; cancels so far. */
  receiving: ReceiverSnapshot;
  /**
   * Events published again, over all links (each time counts), by why: 'nack' (the broker
   * nacked it), 'lost' (its channel or connection died unconfirmed), 'stalled' (its channel
   * stopped confirming and was replaced). Per fault at most maxInFlight per link.
   */
  resends: { total: number; nack: number; lost: number; stalled: number };
  /** Deliveries the broker flagged as redelivered, over all networks (at most the prefetch per fault). */
  redeliveries: number;
  /** Links the broker blocks now (flow control: a memory or disk alarm). */
  blockedBrokers: number;
  /**
   * Every message lost, by reason, over all networks: 'expired' (waited longer than messageTtl
   * in our queue), 'overflow' (an outbox was full: deliveryErrors), 'undecryptable', 'malformed'
   * (every envelope error but a wrong key), and any other reason the broker gave for a dead letter.
   */
  drops: Record<string, number>;
  /** Mesh records published on the trace network (while snoop trace is on; counted in trace.sent too). */
  meshRecords: { send: number; receive: number };
  /** The chart's Lamport clock now. */
  lamport: number;
  /**
   * What the bounded bookkeeping shed (SECURITY.md), hosts named by mesh messages that were
   * not linked to (outside learnHostsFrom, or over MAX_LEARNED_HOSTS), and restarted senders
   * heard with a clock behind ours by more than the replay bound.
   */
  bookkeeping: {
    dedupWindowsShed: number;
    reportsShed: number;
    replayStreamsShed: number;
    replayReanchored: number;
    hostsRefused: number;
    hostsOverLimit: number;
  };
  /** Repeated warnings held back by the rate limit (warning-limiter.ts). */
  warnings: WarningCounts;
}
