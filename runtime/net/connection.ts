// One recovering AMQP connection: amqplib's recovery re-runs `setup` after every reconnect,
// where callers re-create their channels. Its delays are the one retry policy (retry.ts),
// A member that refuses us (retry.ts classifyError: 403, 530) is skipped from then on
// (members.ts); only when every member has refused is the connection stopped.
import type { ChannelModel, RecoveringChannelModel } from 'amqplib';
import { realEnvironment, type Environment } from '../env/environment.ts';
import { defaultAmqpPort } from '../lan/ports.ts';
import { MemberRotation } from './members.ts';
import { RETRY, retryDelayMs } from './retry.ts';
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

export interface OpenOptions {
  /** The broker's connection list shows this as the client's connection_name. */
  connectionName?: string;
  /** Told which endpoint (URL) each attempt dials: the first, and the next after every failure or drop. */
  onEndpoint?: (url: string) => void;
  /** Socket options for amqps:// (CA, certificate, key; tls.ts). */
  tls?: TlsSocketOptions;
  /**
   * Told when a member refuses us (403, 530): it is skipped from now on; `all`: every member
   * has, and the connection is stopped. Called before the 'connect-failed' listeners run.
   */
  onRefused?: (url: string, err: Error, all: boolean) => void;
  /** Dials through this environment's `connect`, its randomness jitters the delays (default: the real one). */
  environment?: Environment;
}

/**
 * Opens a recovering connection in the background; `waitForConnect()` is its first connect
 * (firstConnect below). With several URLs (the members of one RabbitMQ cluster) each attempt
 * dials one of them, starting with the first, and a failed attempt or a lost connection moves
 * on to the next, wrapping: failover. amqplib's recovery re-dials the same URL object each
 * time, so the object's address is changed between attempts. `tls`: the CA, certificate
 * and key for amqps:// URLs (tls.ts).
 */
export async function openRecovering(
  urls: string | readonly string[],
  heartbeatSeconds: number,
  setup: (model: ChannelModel) => Promise<void>,
  opts: OpenOptions = {},
): Promise<RecoveringChannelModel> {
  const list = typeof urls === 'string' ? [urls] : [...urls];
  if (list.length === 0) throw new Error('openRecovering: no broker URL');
  const rotation = new MemberRotation(list);
  const target = dialTarget(list[0], heartbeatSeconds);
  opts.onEndpoint?.(list[0]);
  const clientProperties = opts.connectionName ? { connection_name: opts.connectionName } : undefined;
  // A model that dies while `setup` runs on it emits 'error' before the recovery has bound its
  // own listener: unheard, that would crash the process. The failure still reaches us as the
  // setup's rejection ('connect-failed').
  const guardedSetup = async (model: ChannelModel) => {
    model.on('error', () => undefined);
    await setup(model);
  };
  const env = opts.environment ?? realEnvironment;
  const connection = await env.connect(target, {
    // amqplib leaves Nagle's algorithm on: a small frame (an event, an ack) written while an
    // earlier one is unacknowledged would wait for the peer's (possibly delayed) ACK
    noDelay: true,
    ...opts.tls,
    timeout: RETRY.attemptTimeoutMs, // per attempt, until the handshake is done (amqplib clears it then)
    recovery: { ...RECOVERY, calculateDelay: (attempt: number) => retryDelayMs(attempt, env.random), waitForConnect: false, setup: guardedSetup },
    ...(clientProperties ? { clientProperties } : {}),
  });
  connection.on('error', () => undefined); // surfaced through 'disconnect' / 'connect-failed'
  const next = () => {
    if (list.length === 1) return;
    const url = rotation.advance();
    if (url === undefined) return;
    Object.assign(target, dialTarget(url, heartbeatSeconds));
    opts.onEndpoint?.(url);
  };
  connection.on('connect', () => rotation.connected());
  connection.on('connect-failed', (err: Error) => {
    const outcome = rotation.failed(err);
    if (outcome.refusedMember !== undefined) opts.onRefused?.(outcome.refusedMember, err, outcome.allRefused);
    // no retry makes a refusing broker accept us: with every member refusing, stop
    if (outcome.allRefused) void connection.close().catch(() => undefined);
    else next();
  });
  connection.on('disconnect', next);
  const first = firstConnect(connection, rotation, connectionAttempts(list[0]) === undefined ? undefined : connectionAttempts(list[0])! * list.length);
  first.catch(() => undefined); // only awaited by callers that wait for the first connect
  connection.waitForConnect = () => first;
  return connection;
}

/** amqplib's object form of a URL (its `connect` reads these fields on every attempt). */
export interface DialTarget {
  protocol: string;
  hostname: string;
  port: number;
  username: string;
  password: string;
  vhost: string;
  heartbeat: number;
}

/** The seed's URLs carry pika's `heartbeat_interval` and `connection_attempts`; the heartbeat is passed on, in seconds. */
export function dialTarget(url: string, heartbeatSeconds: number): DialTarget {
  const u = new URL(url);
  const protocol = u.protocol.replace(/:$/, '');
  return {
    protocol,
    hostname: u.hostname.replace(/^\[|\]$/g, ''),
    port: u.port ? Number(u.port) : defaultAmqpPort(protocol === 'amqps'),
    username: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    vhost: decodeURIComponent(u.pathname.slice(1) || '/'),
    heartbeat: heartbeatSeconds,
  };
}

/**
 * The first connect as one promise. It rejects once every member has refused us (the
 * connection is stopped then, see openRecovering), or once every member's last attempt
 * failed on a refusal or a certificate error (TLS: startAt says so at once; the connection
 * itself keeps retrying with the capped backoff, a renewed certificate is picked up). With `attempts`
 * (`connection_attempts=N` in the URL) it also rejects once N attempts have failed, so
 * startAt fails fast with BrokerUnreachableError instead of waiting out its timeout; the
 * connection itself keeps retrying until it is closed, because a link to another host's
 * broker must still come up when that broker does (its outbox holds the events meanwhile).
 * Registered before the first attempt runs: amqplib defers it to the next turn of the loop.
 */
function firstConnect(connection: RecoveringChannelModel, rotation: MemberRotation, attempts: number | undefined): Promise<RecoveringChannelModel> {
  let refusal: Error | undefined;
  // amqplib's own wait rejects with a bare 'Connection closed' when we stop it: say why instead
  const own = connection.waitForConnect().catch((err: unknown) => Promise.reject(refusal ?? err));
  let giveUp: (err: Error) => void = () => undefined;
  const exhausted = new Promise<never>((_, reject) => (giveUp = reject));
  let failures = 0;
  connection.on('connect-failed', (err: Error) => {
    if (rotation.allRefused || rotation.noneAccepts) {
      if (refusal) return;
      refusal = err;
      giveUp(err);
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

/**
 * What the broker's connection list (and the management API's /api/connections) shows as
 * this connection's name: `miros/<role> <program>[<pid>]@<host>`, e.g. `miros/pub peer[4711]@10.77.0.12`.
 */
export function connectionName(role: 'pub' | 'sub' | 'snoop', program: string, host: string): string {
  return `miros/${role} ${program}[${process.pid}]@${host}`;
}
