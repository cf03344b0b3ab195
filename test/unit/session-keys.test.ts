// The links of one process are keyed by everything that makes connections differ, the TLS
// identity included: two charts presenting different client certificates to one broker must
// not share a connection (the broker would see only the first identity). Fake brokers
// (fake-amqp.ts): a link shows up as a connection.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { realEnvironment } from '../../runtime/env/environment.ts';
import { Session, forgetSessions, sessionOf } from '../../runtime/net/session.ts';
import type { Tenant } from '../../runtime/net/shared-connection.ts';
import type { TlsSocketOptions } from '../../runtime/net/tls.ts';
import { fakeBrokers } from './fake-amqp.ts';

vi.mock('../../runtime/net/connection.ts', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../runtime/net/connection.ts')>()),
  openRecovering: (await import('./fake-amqp.ts')).fakeOpenRecovering,
}));

const URL = 'amqps://u:p@10.9.9.9:5671/%2F';
const identity = (who: string): TlsSocketOptions => ({ ca: 'CA PEM', cert: `CERT ${who}`, key: `KEY ${who}` });
const options = (tls: TlsSocketOptions) => ({ urls: [URL], label: 'b', heartbeat: 5, outboxBound: 10, connectionName: 'miros/pub t', tls });
const tenant = (): Tenant => ({ setup: async () => undefined });

beforeEach(() => {
  fakeBrokers.reset();
  forgetSessions();
});
afterEach(() => fakeBrokers.reset());

describe('links keyed by TLS identity', () => {
  it('gives two TLS identities to one broker two connections, and one identity one', async () => {
    const session = sessionOf();
    const alice = session.acquireLink(options(identity('alice')));
    const bob = session.acquireLink(options(identity('bob')));
    const alice2 = session.acquireLink(options(identity('alice'))); // the same identity, read again: shared
    for (const { link } of [alice, bob, alice2]) await link.open();
    expect(alice2.link).toBe(alice.link);
    expect(bob.link).not.toBe(alice.link);
    expect(fakeBrokers.to('10.9.9.9')).toHaveLength(2);
    for (const { key } of [alice, bob, alice2]) await session.releaseLink(key, 0);
    expect(session.linkCount).toBe(0);
  });

  it('seats consumers of two TLS identities on two connections, of one identity on one', () => {
    const session = sessionOf();
    const consuming = (who: string) => ({ urls: [URL], heartbeat: 5, connectionName: 'miros/sub t', tls: identity(who) });
    const a = session.joinShared(consuming('alice'), tenant());
    const b = session.joinShared(consuming('bob'), tenant());
    const a2 = session.joinShared(consuming('alice'), tenant());
    expect(a2).toBe(a);
    expect(b).not.toBe(a);
  });

  it('keeps the links of two environments apart', () => {
    const other = new Session({ ...realEnvironment });
    const here = sessionOf().acquireLink(options(identity('alice')));
    const there = other.acquireLink(options(identity('alice')));
    expect(there.link).not.toBe(here.link);
  });
});
