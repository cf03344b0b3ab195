// A full outbox, end to end through MirosNets with fake brokers (fake-amqp.ts in place of
// openRecovering, discovery stubbed): the event it cannot take is reported through
// onDeliveryError and counted in deliveryErrors; the other brokers still get it and
// nothing else is lost.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Event } from '../../runtime/hsm/index.ts';
import { decodeEnvelope } from '../../runtime/net/envelope.ts';
import { OutboxOverflowError } from '../../runtime/net/errors.ts';
import { Fernet, generateKey } from '../../runtime/net/fernet.ts';
import { MirosNets, type ChartPort } from '../../runtime/net/miros-nets.ts';
import { type FakeChannel, fakeBrokers, idleChartPort, linkChannel } from './fake-amqp.ts';

vi.mock('../../runtime/net/connection.ts', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../runtime/net/connection.ts')>()),
  openRecovering: (await import('./fake-amqp.ts')).fakeOpenRecovering,
}));
vi.mock('../../runtime/lan/index.ts', async () => (await import('./fake-amqp.ts')).fakeLan(() => ['127.0.0.1', '10.9.9.9']));

const KEY = generateKey();

const chart = idleChartPort();

const seqsOf = (channel: FakeChannel) => channel.published.map((r) => decodeEnvelope(new Fernet(KEY), r.content).seq);

beforeEach(() => {
  fakeBrokers.reset();
  fakeBrokers.autoConnect = (url) => new URL(url).hostname === '127.0.0.1';
});
afterEach(() => {
  fakeBrokers.reset();
});

describe('MirosNets: a full outbox', () => {
  it('reports the event it cannot take through onDeliveryError and counts it; the rest goes out', async () => {
    const errors: OutboxOverflowError[] = [];
    const warnings: string[] = [];
    const nets = new MirosNets(chart, {
      rabbitUser: 'u',
      rabbitPassword: 'secret',
      meshEncryptionKey: KEY,
      thisAddress: '127.0.0.1',
      outboxBound: 2,
      startTimeoutMs: 2000,
      rediscoverIntervalMs: 0,
      onDeliveryError: (e) => errors.push(e),
      onWarning: (m) => warnings.push(m),
    });
    await nets.start(() => undefined);

    for (const n of [1, 2, 3]) nets.transmit(new Event('PING', { n }));

    // the far broker never answered: its outbox took two, refused the third, and said so
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(OutboxOverflowError);
    expect(errors[0].bound).toBe(2);
    expect(errors[0].broker).toContain('@10.9.9.9:');
    expect(errors[0].broker).not.toContain('secret');
    const stats = nets.stats();
    expect(stats.deliveryErrors).toBe(1);
    expect(stats.mesh.sent).toBe(3);
    const far = stats.brokers.find((b) => b.broker.includes('@10.9.9.9:'))!;
    expect(far).toMatchObject({ state: 'connecting', queued: 2 });

    // our own broker got all three
    const own = linkChannel('127.0.0.1');
    const sent = seqsOf(own);
    expect(sent).toHaveLength(3);

    // the far broker comes up: the two it held go out, in order
    await fakeBrokers.to('10.9.9.9')[0].connect();
    const remote = linkChannel('10.9.9.9');
    expect(seqsOf(remote)).toEqual(sent.slice(0, 2));

    own.confirmAll();
    remote.confirmAll();
    await nets.stop();
    expect(warnings).toEqual([]);
  });
});
