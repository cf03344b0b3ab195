// Events held in an outbox through a 2-minute outage are delivered with none lost: the body is
// stamped and encrypted again when the outbox finally publishes it (sealed-envelope.ts), so the
// replay bound (here 110 s: the default messageTtl + clockSkewMs) does not take them for replays.
// MirosNets with fake brokers (fake-amqp.ts), discovery stubbed, and a fake clock (Date.now).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Event } from '../../runtime/hsm/index.ts';
import { Admission } from '../../runtime/net/admission.ts';
import { decodeEnvelope, encodeEnvelope } from '../../runtime/net/envelope.ts';
import { Fernet, generateKey } from '../../runtime/net/fernet.ts';
import { MirosNets, type ChartPort } from '../../runtime/net/miros-nets.ts';
import { DEFAULT_CLOCK_SKEW_MS } from '../../runtime/net/security-options.ts';
import { MESSAGE_TTL_MS } from '../../runtime/net/topology.ts';
import { type FakeChannel, fakeBrokers, idleChartPort, linkChannel } from './fake-amqp.ts';

vi.mock('../../runtime/net/connection.ts', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../runtime/net/connection.ts')>()),
  openRecovering: (await import('./fake-amqp.ts')).fakeOpenRecovering,
}));
vi.mock('../../runtime/lan/index.ts', async () => (await import('./fake-amqp.ts')).fakeLan(() => ['127.0.0.1', '10.9.9.9']));

const KEY = generateKey();
const fernet = new Fernet(KEY);
const OUTAGE_MS = 2 * 60_000;
const BOUND_MS = MESSAGE_TTL_MS + DEFAULT_CLOCK_SKEW_MS;

const chart = idleChartPort();


let clock = 0;
beforeEach(() => {
  clock = Date.parse('2026-12-07T01:00:00Z');
  vi.spyOn(Date, 'now').mockImplementation(() => clock);
  fakeBrokers.reset();
  fakeBrokers.autoConnect = (url) => new URL(url).hostname === '127.0.0.1';
});
afterEach(() => {
  vi.restoreAllMocks();
  fakeBrokers.reset();
});

describe('MirosNets: events held through an outage', () => {
  it('are stamped when they are published, so the receiver takes all of them after a 2-minute outage', async () => {
    expect(OUTAGE_MS).toBeGreaterThan(BOUND_MS); // the outage outlasts the bound: a stamp from transmit() would be refused
    const nets = new MirosNets(chart, {
      rabbitUser: 'u',
      rabbitPassword: 'p',
      meshEncryptionKey: KEY,
      txRoutingKey: 'valve.one',
      thisAddress: '127.0.0.1',
      startTimeoutMs: 2000,
      rediscoverIntervalMs: 0,
      onWarning: () => undefined,
    });
    await nets.start(() => undefined);
    const N = 20;
    for (let n = 0; n < N; n++) nets.transmit(new Event('PING', { n }));
    const own = linkChannel('127.0.0.1');
    expect(own.published).toHaveLength(N);

    // the far broker is away for 2 minutes; its outbox holds the 20 events
    clock += OUTAGE_MS;
    await fakeBrokers.to('10.9.9.9')[0].connect();
    const far = linkChannel('10.9.9.9');
    expect(far.published).toHaveLength(N);

    // the receiver on the far host heard this sender before the outage, and checks now
    const admission = new Admission({ replayBoundMs: BOUND_MS, now: () => clock });
    const before = decodeEnvelope(fernet, own.published[0].content);
    clock -= OUTAGE_MS;
    expect(admission.refuse('mesh', 'valve.one', before, own.published[0].content)).toBeUndefined();
    clock += OUTAGE_MS;
    const refused = far.published.map((r) => admission.refuse('mesh', r.routingKey, decodeEnvelope(fernet, r.content), r.content));
    expect(refused.filter(Boolean)).toEqual([]);
    expect(far.published.map((r) => (decodeEnvelope(fernet, r.content).payload as { n: number }).n)).toEqual([...Array(N).keys()]);

    // the control: the same event stamped at transmit() time would have been taken for a replay
    const stale = encodeEnvelope({ encryptToBuffer: (p) => fernet.encryptToBuffer(p, { time: (clock - OUTAGE_MS) / 1000 }), encrypt: () => '', decrypt: (t) => fernet.decrypt(t) }, {
      ...before,
      seq: before.seq + N,
    });
    expect(admission.refuse('mesh', 'valve.one', decodeEnvelope(fernet, stale), stale)?.reason).toBe('replay');

    own.confirmAll();
    far.confirmAll();
    await nets.stop();
  });
});
