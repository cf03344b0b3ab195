// The links of one process are keyed by everything that makes connections differ, the TLS
// identity included: two charts presenting different client certificates to one broker must
// not share a connection (the broker would see only the first identity). Fake brokers
// (fake-amqp.ts): a link shows up as a connection.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { acquireLink, releaseLink } from '../../runtime/net/link-pool.ts';
import type { TlsSocketOptions } from '../../runtime/net/tls.ts';
import { fakeBrokers } from './fake-amqp.ts';

vi.mock('../../runtime/net/connection.ts', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../runtime/net/connection.ts')>()),
  openRecovering: (await import('./fake-amqp.ts')).fakeOpenRecovering,
}));

const URL = 'amqps://u:p@10.9.9.9:5671/%2F';
const identity = (who: string): TlsSocketOptions => ({ ca: 'CA PEM', cert: `CERT ${who}`, key: `KEY ${who}` });
const options = (tls: TlsSocketOptions) => ({ urls: [URL], label: 'b', heartbeat: 5, outboxBound: 10, connectionName: 'miros/pub t', tls });

beforeEach(() => fakeBrokers.reset());
afterEach(() => fakeBrokers.reset());

describe('links keyed by TLS identity', () => {
  it.fails('gives two TLS identities to one broker two connections, and one identity one', async () => {
    const alice = acquireLink(options(identity('alice')));
    const bob = acquireLink(options(identity('bob')));
    const alice2 = acquireLink(options(identity('alice'))); // the same identity, read again: shared
    for (const { link } of [alice, bob, alice2]) await link.open();
    expect(alice2.link).toBe(alice.link);
    expect(bob.link).not.toBe(alice.link);
    expect(fakeBrokers.to('10.9.9.9')).toHaveLength(2);
    for (const { key } of [alice, bob, alice2]) await releaseLink(key, 0);
  });
});
