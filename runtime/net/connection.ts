// One recovering AMQP connection: amqplib's recovery re-runs `setup` after every reconnect,
// where callers re-create their channels. Its delays are the one retry policy (retry.ts),
// and an error no retry can fix (retry.ts classifyError: 403, 530) stops it at once.
import { connect, type ChannelModel, type RecoveringChannelModel } from 'amqplib';
import { RETRY, classifyError, retryDelayMs } from './retry.ts';
import type { TlsSocketOptions } from './tls.ts';

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
 * Opens a recovering connection in the background; `waitForConnect()` is its first connect
 * (firstConnect below). `tls`: the CA, certificate and key for an amqps:// URL (tls.ts).
 */
export async function openRecovering(
  url: string,
  heartbeatSeconds: number,
  setup: (model: ChannelModel) => Promise<void>,
  tls?: TlsSocketOptions,
): Promise<RecoveringChannelModel> {
  // The seed's URLs carry pika's `heartbeat_interval`; amqplib reads `heartbeat`.
  const target = `${url}${url.includes('?') ? '&' : '?'}heartbeat=${heartbeatSeconds}`;
  const connection = await connect(target, { ...tls, recovery: { ...RECOVERY, waitForConnect: false, setup } });
  connection.on('error', () => undefined); // surfaced through 'disconnect' / 'connect-failed'
  const first = firstConnect(connection, connectionAttempts(url));
  first.catch(() => undefined); // only awaited by callers that wait for the first connect
  connection.waitForConnect = () => first;
  return connection;
}

/**
 * The first connect as one promise. A permanent error (the broker refused our credentials or
 * vhost), now or later, closes the connection at once: no retry can fix that, and retrying
 * only hides it; the first connect then rejects with that error. With `attempts`
 * (`connection_attempts=N` in the URL) it also rejects once N attempts have failed, so
 * startAt fails fast with BrokerUnreachableError instead of waiting out its timeout; the
 * connection itself keeps retrying until it is closed, because a link to another host's
 * broker must still come up when that broker does (its outbox holds the events meanwhile).
 * Registered before the first attempt runs: amqplib defers it to the next turn of the loop.
 */
function firstConnect(connection: RecoveringChannelModel, attempts: number | undefined): Promise<RecoveringChannelModel> {
  let refusal: Error | undefined;
  // amqplib's own wait rejects with a bare 'Connection closed' when we stop it: say why instead
  const own = connection.waitForConnect().catch((err: unknown) => Promise.reject(refusal ?? err));
  let giveUp: (err: Error) => void = () => undefined;
  const exhausted = new Promise<never>((_, reject) => (giveUp = reject));
  let failures = 0;
  connection.on('connect-failed', (err: Error) => {
    if (classifyError(err) === 'permanent') {
      if (refusal) return;
      refusal = err;
      giveUp(err);
      void connection.close().catch(() => undefined); // stops the retries
      return;
    }
    if (attempts !== undefined && ++failures === attempts) {
      giveUp(
        new Error(`${attempts} connection attempt${attempts === 1 ? '' : 's'} failed (connectionAttempts / CONNECTION_ATTEMPTS), the last with: ${err.message}`, {
          cause: err,
        }),
      );
    }
  });
  return Promise.race([own, exhausted]);
}
