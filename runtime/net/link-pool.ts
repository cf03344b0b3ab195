// The publishing links of one process, shared by all of its charts: one connection, one
// confirm channel and one ordered outbox per broker (clustered: per cluster), however many
// charts the process runs. A link is opened by the first chart that needs it and closed
// when the last one lets it go. Per-chart order is kept (one ordered stream per broker);
// `outboxBound` then bounds what the process holds for a broker.
import { realEnvironment, type Environment } from '../env/environment.ts';
import { BrokerLink, type BrokerLinkOptions } from './broker-link.ts';

interface Entry {
  link: BrokerLink;
  users: number;
}

/** One pool per environment: two simulated worlds in one process share no link. */
const pools = new WeakMap<Environment, Map<string, Entry>>();

function poolOf(env: Environment | undefined): Map<string, Entry> {
  const e = env ?? realEnvironment;
  let pool = pools.get(e);
  if (!pool) pools.set(e, (pool = new Map()));
  return pool;
}

/** What makes two links differ: where they dial, and how. */
export function linkKey(o: Pick<BrokerLinkOptions, 'urls' | 'heartbeat' | 'outboxBound' | 'maxInFlight' | 'connectionName'>): string {
  return JSON.stringify([o.urls, o.heartbeat, o.outboxBound, o.maxInFlight ?? null, o.connectionName ?? '']);
}

/** The process's link for these options, opened on first use. */
export function acquireLink(options: BrokerLinkOptions): { link: BrokerLink; key: string } {
  const key = linkKey(options);
  const pool = poolOf(options.environment);
  let entry = pool.get(key);
  if (!entry) {
    entry = { link: new BrokerLink(options), users: 0 };
    pool.set(key, entry);
  }
  entry.users++;
  return { link: entry.link, key };
}

/**
 * One user lets the link go. The last one closes it, waiting up to drainMs for unconfirmed
 * events; the others wait the same for the outbox to empty (their own events are in it too).
 */
export async function releaseLink(key: string, drainMs: number, environment?: Environment): Promise<void> {
  const pool = poolOf(environment);
  const entry = pool.get(key);
  if (!entry) return;
  entry.users--;
  if (entry.users > 0) {
    if (drainMs > 0 && entry.link.isUp) await entry.link.outbox.settled(drainMs);
    return;
  }
  pool.delete(key);
  await entry.link.close(drainMs);
}

