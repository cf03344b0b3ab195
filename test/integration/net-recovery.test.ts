// Detection and recovery in the runtime (issue 11 item 3), against the shared local cluster:
// refused credentials fail startAt at once with a clear error; a listed broker that is not
// there is reported and visible in networkStats while the mesh between the others still
// works; the heartbeat default is 10 s.
import { afterEach, describe, expect, it } from 'vitest';
import { connect } from 'amqplib';
import { EXCHANGES } from '../../runtime/net/topology.ts';
import { BrokerAccessRefusedError, BrokerUnreachableError, Event } from '../../runtime/index.ts';
import { sleep, waitFor } from '../../ops/util/wait.ts';
import { openRecovering } from '../../runtime/net/connection.ts';
import { brokers, idle, makeNode, stopCreated } from './net-helpers.ts';

const NOBODY = '127.0.0.99'; // a loopback address with no broker: ECONNREFUSED at once

describe('detection and recovery', () => {
  afterEach(stopCreated);

  it.each([
    ['a wrong password', { rabbitPassword: 'not-the-password' }],
    ['the guest user (refused from anywhere but localhost)', { rabbitUser: 'guest', rabbitPassword: 'guest' }],
  ])('%s: startAt rejects at once, naming the broker and where credentials are set', async (_what, creds) => {
    const all = brokers();
    const n = makeNode('refused', 0, creds);
    const t0 = Date.now();
    const err = await n.chart.startAt(idle).then(
      () => undefined,
      (e: unknown) => e,
    );
    const ms = Date.now() - t0;
    expect(err).toBeInstanceOf(BrokerAccessRefusedError);
    expect(err).toBeInstanceOf(BrokerUnreachableError);
    const e = err as BrokerAccessRefusedError;
    expect(ms).toBeLessThan(5000);
    expect(e.replyCode).toBe(403);
    expect(e.code).toBe('BROKER_UNREACHABLE');
    expect(e.url).toContain(`@${all[0].host}:5672`);
    expect(e.message).toContain(`${all[0].host}:5672`);
    expect(e.message).toMatch(/refused the credentials of user/);
    expect(e.message).toMatch(/rabbitUser\/rabbitPassword.*RABBIT_USER\/RABBIT_PASSWORD.*\.env/s);
    expect(e.message).not.toContain(`:${creds.rabbitPassword}@`); // the password is masked in the URL
    await n.chart.stop();
  });

  it('a refused login stops the recovering connection after one attempt (no retry loop)', async () => {
    const host = brokers()[1].host;
    let failures = 0;
    // no connection_attempts in the URL: only the refusal can end the first wait
    const connection = await openRecovering(`amqp://peter:wrong@${host}:5672/%2F`, 10, async () => undefined);
    connection.on('connect-failed', () => failures++);
    try {
      await expect(connection.waitForConnect()).rejects.toThrow(/403 \(ACCESS-REFUSED\)/);
      await sleep(1000); // time for ~4 retries, had it kept retrying
      expect(failures).toBe(1);
    } finally {
      await connection.close();
    }
  });

  it('a listed broker that is not there: startAt resolves, it is reported and shown not up, the mesh still flows', async () => {
    const all = brokers();
    const hosts = [...all.slice(0, 3).map((b) => b.host), NOBODY];
    const [a, b] = [makeNode('hopeful', 0, { hosts }), makeNode('listener', 1, { hosts })];
    const t0 = Date.now();
    await Promise.all([a, b].map((n) => n.chart.startAt(idle)));
    expect(Date.now() - t0).toBeLessThan(10_000);

    await waitFor('a warning naming the absent broker', () => a.warnings.some((w) => w.includes(`@${NOBODY}:`)), 5000);
    const warning = a.warnings.filter((w) => w.includes(`@${NOBODY}:`));
    expect(warning).toHaveLength(1); // one line per broker, not one per retry
    expect(warning[0]).toMatch(/ECONNREFUSED/);
    expect(warning[0]).toMatch(/retrying|keeps trying/);

    const stats = a.chart.networkStats();
    const absent = stats.brokers.find((l) => l.broker.includes(`@${NOBODY}:`));
    expect(absent).toBeDefined();
    expect(absent!.state).not.toBe('up');
    expect(['connecting', 'down']).toContain(absent!.state);
    expect(absent!.lastError).toMatch(/ECONNREFUSED/);
    expect(absent!.failedAttempts).toBeGreaterThanOrEqual(1);
    expect(absent!.broker).not.toContain('rabbit@'); // the password is masked
    // startAt waits for the own broker's link only; the others come up in the background
    await waitFor('the links to the 3 real brokers up', () =>
      all.slice(0, 3).every((x) => a.chart.networkStats().brokers.find((l) => l.broker.includes(`@${x.host}:`))?.state === 'up'),
    );
    expect(stats.refusedBrokers).toBe(0);

    for (let i = 0; i < 5; i++) a.chart.transmit(new Event('PING', { i }));
    await waitFor('5 PINGs at the listener', () => b.received.filter((e) => e.signalName === 'PING').length === 5);
    expect(b.received.map((e) => (e.payload as { i: number }).i)).toEqual([0, 1, 2, 3, 4]);

    // it keeps trying (capped backoff, not a hot loop) and still warns only once
    const before = a.chart.networkStats().brokers.find((l) => l.broker.includes(`@${NOBODY}:`))!.failedAttempts;
    await waitFor('more attempts on the absent broker', () =>
      a.chart.networkStats().brokers.find((l) => l.broker.includes(`@${NOBODY}:`))!.failedAttempts > before, 5000);
    const after = a.chart.networkStats().brokers.find((l) => l.broker.includes(`@${NOBODY}:`))!.failedAttempts;
    expect(after).toBeLessThan(40); // ~100 ms doubling to 2 s: a handful in a few seconds
    expect(a.warnings.filter((w) => w.includes(`@${NOBODY}:`))).toHaveLength(1);
  });

  it('an exchange deleted under a running chart: the broker closes its publishing channel (404); it is said, and a fresh channel declares the exchange again and the event is confirmed', async () => {
    const own = brokers()[0];
    const n = makeNode('orphan', 0, { hosts: [own.host] });
    await n.chart.startAt(idle);
    const admin = await connect(`amqp://peter:rabbit@${own.host}:5672/%2F`);
    try {
      const ch = await admin.createChannel();
      await ch.deleteExchange(EXCHANGES.mesh);
      const t0 = Date.now();
      const result = await n.chart.transmit(new Event('PING', { i: 1 })).settled;
      expect(result.confirmed).toHaveLength(1);
      expect(Date.now() - t0).toBeLessThan(10_000); // not the stall watchdog's 30 s
      await ch.checkExchange(EXCHANGES.mesh); // declared again (throws, closing ch, if it is not there)
      const link = n.chart.networkStats().brokers[0];
      expect(link).toMatchObject({ state: 'up', closedChannels: 1, reconnects: 0, lastError: expect.stringMatching(/404 \(NOT-FOUND\).*no exchange/) });
      const said = n.warnings.filter((w) => w.includes('closed the publishing channel'));
      expect(said).toHaveLength(1);
      expect(said[0]).toMatch(/404.*an exchange was deleted on the broker: the fresh channel declares it again/);
      await ch.close();
    } finally {
      await admin.close();
    }
  });

  it('heartbeats every 10 s by default (not the reference 3600 s)', async () => {
    const all = brokers();
    const n = makeNode('beat', 1);
    const explicit = makeNode('beat-explicit', 2, { heartbeatInterval: 3600 });
    const fromEnv = process.env.RABBIT_HEARTBEAT_INTERVAL;
    if (fromEnv === undefined || fromEnv === '') {
      expect(n.chart.thisUrl()).toBe(`amqp://peter:rabbit@${all[1].host}:5672/%2F?connection_attempts=3&heartbeat_interval=10`);
    }
    expect(explicit.chart.thisUrl()).toMatch(/heartbeat_interval=3600$/);
    await n.chart.startAt(idle);
    expect(n.chart.thisUrl()).toMatch(/heartbeat_interval=\d+$/);
  });
});
