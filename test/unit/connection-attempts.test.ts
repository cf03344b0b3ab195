// connectionAttempts (CONNECTION_ATTEMPTS) bounds the first connect: against a closed port on
// 127.0.0.1 the first wait fails after exactly that many attempts, long before any timeout.
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { amqpUrl, resolveNetConfig } from '../../runtime/net/config.ts';
import { connectionAttempts, openRecovering } from '../../runtime/net/connection.ts';
import { Receiver } from '../../runtime/net/receiver.ts';

const KEY = 'cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=';

/** A port nobody listens on: bind an ephemeral one and close it again. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function urlFor(env: NodeJS.ProcessEnv, options: { connectionAttempts?: number } = {}): Promise<string> {
  const cfg = resolveNetConfig(
    { rabbitUser: 'u', rabbitPassword: 'p', meshEncryptionKey: KEY, rabbitPort: await closedPort(), ...options },
    env,
    { dotenvPath: false },
  );
  return amqpUrl(cfg, '127.0.0.1');
}

/** Opens a recovering connection and counts the failed attempts until the first wait gives up. */
async function attemptsUntilGivingUp(url: string): Promise<{ failures: number; error: Error; ms: number }> {
  const t0 = Date.now();
  let failures = 0;
  const connection = await openRecovering(url, 0, async () => undefined);
  connection.on('connect-failed', () => failures++);
  try {
    await connection.waitForConnect();
    throw new Error('connected to a closed port');
  } catch (err) {
    return { failures, error: err as Error, ms: Date.now() - t0 };
  } finally {
    await connection.close();
  }
}

describe('connectionAttempts', () => {
  it('is read from the URL the library builds', async () => {
    expect(connectionAttempts(await urlFor({}))).toBe(3);
    expect(connectionAttempts(await urlFor({ CONNECTION_ATTEMPTS: '7' }))).toBe(7);
    expect(connectionAttempts('amqp://u:p@h:5672/%2F')).toBeUndefined();
  });

  it.each([1, 2, 4])('gives up the first connect after %i attempts', async (n) => {
    const { failures, error } = await attemptsUntilGivingUp(await urlFor({}, { connectionAttempts: n }));
    expect(failures).toBe(n);
    expect(error.message).toMatch(new RegExp(`^${n} connection attempts? failed .*ECONNREFUSED`));
  });

  it('comes from CONNECTION_ATTEMPTS in the environment', async () => {
    const { failures } = await attemptsUntilGivingUp(await urlFor({ CONNECTION_ATTEMPTS: '2' }));
    expect(failures).toBe(2);
  });

  it('makes the receiver (what startAt waits for) fail before its timeout', async () => {
    const url = await urlFor({}, { connectionAttempts: 2 });
    const receiver = new Receiver({ urls: [url], label: url, chartName: 'attempts', host: '127.0.0.1', topology: 'mesh', messageTtl: 50_000, heartbeat: 0, subscriptions: [], onDrop: () => undefined });
    const t0 = Date.now();
    await expect(receiver.open(30_000)).rejects.toThrow(/^2 connection attempts failed/);
    expect(Date.now() - t0).toBeLessThan(10_000);
  });
});
