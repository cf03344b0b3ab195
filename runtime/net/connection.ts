// One recovering AMQP connection: amqplib's recovery re-runs `setup` after every reconnect,
// where callers re-create their channels. Its delays are the one retry policy (retry.ts),
// and an error no retry can fix (retry.ts classifyError: 403, 530) stops it at once.
import { connect, type ChannelModel, type RecoveringChannelModel } from 'amqplib';
import { RETRY, classifyError, retryDelayMs } from './retry.ts';

/** amqplib's recovery settings, from the retry policy: ~100 ms doubling, capped at 2 s, ±20 %. */
export const RECOVERY = {
  initialDelay: RETRY.initialDelayMs,
  maxDelay: RETRY.maxDelayMs,
  factor: RETRY.factor,
  jitter: RETRY.jitter,
  calculateDelay: (attempt: number) => retryDelayMs(attempt),
} as const;

/** pika's `connection_attempts` from the URL (amqplib itself ignores it); undefined if absent or malformed. */
export function connectionAttempts(url: string): number | undefined {
  const m = /[?&]connection_attempts=(\d+)(?:&|$)/.exec(url);
  const n = m ? Number(m[1]) : Number.NaN;
  return Number.isSafeInteger(n) && n >= 1 ? n : undefined;
}

/**
 * Opens a recovering connection in the background. A permanent error (the broker refused our
 * credentials or vhost) closes it at once: no retry can fix that, and retrying only hides it;
 * `waitForConnect()` then rejects with that error. With `connection_attempts=N` in the URL,
 * `waitForConnect()` rejects once the first N attempts have failed (so startAt fails fast
 * with BrokerUnreachableError instead of waiting out its timeout); the connection itself
 * keeps retrying until it is closed, because a link to another host's broker must still come
 * up when that broker does (its outbox holds the events meanwhile).
 */
export async function openRecovering(
  url: string,
  heartbeatSeconds: number,
  setup: (model: ChannelModel) => Promise<void>,
): Promise<RecoveringChannelModel> {
  // The seed's URLs carry pika's `heartbeat_interval`; amqplib reads `heartbeat`.
  const target = `${url}${url.includes('?') ? '&' : '?'}heartbeat=${heartbeatSeconds}`;
  const connection = await connect(target, { recovery: { ...RECOVERY, waitForConnect: false, setup } });
  connection.on('error', () => undefined); // surfaced through 'disconnect' / 'connect-failed'
  const first = connection.waitForConnect();
  first.catch(() => undefined);
  let refused: Error | undefined;
  connection.on('connect-failed', (err: Error) => {
    if (refused || classifyError(err) !== 'permanent') return;
    refused = err;
    void connection.close().catch(() => undefined); // stops the retries (synchronously)
  });
  // amqplib rejects the first wait with 'Connection closed' when we stop it: say why instead
  const firstOrRefusal = first.catch((err: unknown) => Promise.reject(refused ?? err));
  firstOrRefusal.catch(() => undefined);
  connection.waitForConnect = () => firstOrRefusal;
  const attempts = connectionAttempts(url);
  if (attempts !== undefined) boundFirstConnect(connection, attempts);
  return connection;
}

/**
 * Makes `connection.waitForConnect()` reject after `attempts` failed attempts. Called before
 * the first attempt runs: amqplib defers it to the next turn of the event loop.
 */
function boundFirstConnect(connection: RecoveringChannelModel, attempts: number): void {
  const first = connection.waitForConnect();
  let failures = 0;
  let giveUp: (err: Error) => void = () => undefined;
  const exhausted = new Promise<never>((_, reject) => (giveUp = reject));
  const stopCounting = () => {
    connection.off('connect-failed', onFailed);
    connection.off('connect', stopCounting);
  };
  const onFailed = (err: Error) => {
    if (classifyError(err) === 'permanent') {
      stopCounting();
      giveUp(err); // refused: not worth the other attempts
      return;
    }
    if (++failures < attempts) return;
    stopCounting();
    giveUp(
      new Error(`${attempts} connection attempt${attempts === 1 ? '' : 's'} failed (connectionAttempts / CONNECTION_ATTEMPTS), the last with: ${err.message}`, {
        cause: err,
      }),
    );
  };
  connection.on('connect-failed', onFailed);
  connection.on('connect', stopCounting);
  const bounded = Promise.race([first, exhausted]);
  bounded.catch(() => undefined); // only awaited by callers that wait for the first connect
  connection.waitForConnect = () => bounded;
}
