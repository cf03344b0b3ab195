// The one owner of a process's broker connections per Environment (two simulated worlds in
// one process share nothing): the publishing links (broker-link.ts: one connection, confirm
// channel and ordered outbox per broker, clustered: per cluster) and the consuming
// connections (shared-connection.ts: every chart's Receiver a tenant), each opened by its
// first user and closed when the last one lets it go, and the charts receiving, so that a
// second chart of one name@host is refused at once.
//
// Connections are keyed by everything that makes them differ: where they dial, their
// heartbeat, their connection name, the TLS identity they present (a fingerprint of CA,
// certificate, key and verification: two identities to one broker get two connections),
// and for links their outbox settings.
import { createHash } from 'node:crypto';
import { realEnvironment, type Environment } from '../env/environment.ts';
import { BrokerLink, type BrokerLinkOptions } from './broker-link.ts';
import { SharedConnection, type SharedConnectionOptions, type Tenant } from './shared-connection.ts';
import type { TlsSocketOptions } from './tls.ts';

interface LinkEntry {
  link: BrokerLink;
  users: number;
}

export class Session {
  private readonly links = new Map<string, LinkEntry>();
  private readonly consuming = new Map<string, SharedConnection>();
  /** Charts receiving now, as `name@host`. */
  private readonly receiving = new Set<string>();

  constructor(readonly environment: Environment) {}

  /** The process's link for these options, opened on first use; `key` lets it go (releaseLink). */
  acquireLink(options: BrokerLinkOptions): { link: BrokerLink; key: string } {
    const key = linkKey(options);
    let entry = this.links.get(key);
    if (!entry) {
      entry = { link: new BrokerLink({ ...options, environment: this.environment }), users: 0 };
      this.links.set(key, entry);
    }
    entry.users++;
    return { link: entry.link, key };
  }

  /**
   * One user lets the link go. The last one closes it, waiting up to drainMs for unconfirmed
   * events; the others wait the same for the link to settle (their own events are in it too).
   */
  async releaseLink(key: string, drainMs: number): Promise<void> {
    const entry = this.links.get(key);
    if (!entry) return;
    entry.users--;
    if (entry.users > 0) {
      if (drainMs > 0) await entry.link.settled(drainMs);
      return;
    }
    this.links.delete(key);
    await entry.link.close(drainMs);
  }

  /** Links open now (tests, diagnostics). */
  get linkCount(): number {
    return this.links.size;
  }

  /** Seats `tenant` on the process's consuming connection for these options, opened on first use. */
  joinShared(options: SharedConnectionOptions, tenant: Tenant): SharedConnection {
    const key = connectionKey(options);
    let shared = this.consuming.get(key);
    if (!shared || shared.dead) {
      shared = new SharedConnection({ ...options, environment: this.environment });
      this.consuming.set(key, shared);
    }
    shared.join(tenant);
    return shared;
  }

  /** Unseats `tenant`; the last one out closes the connection. */
  async leaveShared(shared: SharedConnection, tenant: Tenant): Promise<void> {
    if (shared.leave(tenant) > 0) return;
    for (const [key, value] of this.consuming) if (value === shared) this.consuming.delete(key);
    await shared.close();
  }

  /** Claims `name@host` for a receiving chart; false if a chart of that name on that host receives already. */
  claimChart(id: string): boolean {
    if (this.receiving.has(id)) return false;
    this.receiving.add(id);
    return true;
  }

  releaseChart(id: string): void {
    this.receiving.delete(id);
  }
}

let sessions = new WeakMap<Environment, Session>();

/** The session of `environment` (default: the real one), made on first use. */
export function sessionOf(environment: Environment = realEnvironment): Session {
  let session = sessions.get(environment);
  if (!session) sessions.set(environment, (session = new Session(environment)));
  return session;
}

/** Forgets every session without closing anything (unit tests: each test starts from an empty one). */
export function forgetSessions(): void {
  sessions = new WeakMap();
}

const tlsIds = new WeakMap<TlsSocketOptions, string>();

/** A fingerprint of the TLS identity and trust (never the key itself: keys stay out of maps and logs). */
export function tlsIdentity(tls: TlsSocketOptions | undefined): string {
  if (!tls) return '';
  let id = tlsIds.get(tls);
  if (id === undefined) {
    const hash = createHash('sha256');
    for (const part of [tls.ca, tls.cert, tls.key]) {
      hash.update(JSON.stringify(pemParts(part)));
      hash.update('\0');
    }
    hash.update(String(tls.rejectUnauthorized ?? true));
    id = `tls:${hash.digest('hex').slice(0, 32)}`;
    tlsIds.set(tls, id);
  }
  return id;
}

/** The PEM text of a `ca`, `cert` or `key` option (a string, a Buffer, a list of them, key objects). */
function pemParts(value: unknown): unknown {
  if (value === undefined || value === null) return null;
  if (Array.isArray(value)) return value.map(pemParts);
  if (Buffer.isBuffer(value)) return value.toString('latin1');
  if (typeof value === 'object') {
    const { pem, passphrase } = value as { pem?: unknown; passphrase?: unknown };
    return [pemParts(pem), passphrase === undefined ? null : String(passphrase)];
  }
  return String(value);
}

/** What makes two links differ: where they dial, and how. */
export function linkKey(o: Pick<BrokerLinkOptions, 'urls' | 'heartbeat' | 'outboxBound' | 'maxInFlight' | 'connectionName' | 'tls'>): string {
  return JSON.stringify([o.urls, o.heartbeat, o.outboxBound, o.maxInFlight ?? null, o.connectionName ?? '', tlsIdentity(o.tls)]);
}

/** What makes two consuming connections differ. */
export function connectionKey(o: Pick<SharedConnectionOptions, 'urls' | 'heartbeat' | 'connectionName' | 'tls'>): string {
  return JSON.stringify([o.urls, o.heartbeat, o.connectionName ?? '', tlsIdentity(o.tls)]);
}
