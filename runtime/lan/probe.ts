// AMQP probe: a real login with our credentials (connect, then close), bounded by a timeout.
// "ok" means a broker at host:port accepted these credentials on vhost "/".
import { realEnvironment, type Environment, type TimerHandle } from '../env/environment.ts';
import type { ConnectionOptions } from 'node:tls';
import { defaultAmqpPort } from './ports.ts';

export interface ProbeOptions {
  port?: number;
  user: string;
  password: string;
  timeoutMs?: number;
  vhost?: string;
  /** Probe over TLS (amqps, default port 5671) with these CA, certificate and key. */
  tls?: Pick<ConnectionOptions, 'ca' | 'cert' | 'key' | 'rejectUnauthorized'>;
  /** the clock, timers and transport (default: the real ones) */
  environment?: Environment;
}

export interface ProbeResult {
  ok: boolean;
  reason?: string;
}

export const DEFAULT_PROBE_TIMEOUT_MS = 2000;

function describeError(err: unknown, vhost: string): string {
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'ECONNREFUSED') return 'connection refused (nothing listening)';
  if (e?.code === 'ETIMEDOUT' || /timed? ?out/i.test(e?.message ?? '')) return 'timed out';
  if (e?.code === 'EHOSTUNREACH' || e?.code === 'ENETUNREACH') return `unreachable (${e.code})`;
  const msg = String(e?.message ?? err);
  // a certificate or handshake failure: not a broker with our CA (RABBIT_TLS_CA), or not a TLS port
  if (/CERT|SELF_SIGNED|UNABLE_TO_|ALTNAME|^ERR_SSL_/.test(String(e?.code))) return `TLS failed (${e.code}): ${msg}`;
  if (/403|ACCESS.REFUSED/i.test(msg)) return `login refused (ACCESS_REFUSED): ${msg}`;
  if (/ConnectionOpenOk; got <ConnectionClose/.test(msg)) return `broker closed the connection on open (no access to vhost ${JSON.stringify(vhost)}?): ${msg}`;
  return e?.code ? `${e.code}: ${msg}` : msg;
}

export async function probeAmqp(host: string, opts: ProbeOptions): Promise<ProbeResult> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  const env = opts.environment ?? realEnvironment;
  let timer: TimerHandle | undefined;
  let timedOut = false;
  const connecting = env.connect(
    {
      protocol: opts.tls ? 'amqps' : 'amqp',
      hostname: host,
      port: opts.port ?? defaultAmqpPort(Boolean(opts.tls)),
      username: opts.user,
      password: opts.password,
      vhost: opts.vhost ?? '/',
      heartbeat: 0,
    },
    { timeout: timeoutMs, ...opts.tls },
  );
  const timeout = new Promise<never>((_, reject) => {
    timer = env.setTimeout(() => {
      timedOut = true;
      reject(new Error(`timed out after ${timeoutMs} ms`));
    }, timeoutMs);
  });
  try {
    const conn = await Promise.race([connecting, timeout]);
    conn.on('error', () => {}); // a close race must not become an unhandled 'error'
    await conn.close().catch(() => {});
    return { ok: true };
  } catch (err) {
    if (timedOut) {
      // close the connection if the login completes after all
      connecting.then((c) => c.close().catch(() => {})).catch(() => {});
      return { ok: false, reason: `timed out after ${timeoutMs} ms` };
    }
    return { ok: false, reason: describeError(err, opts.vhost ?? '/') };
  } finally {
    env.clearTimeout(timer);
  }
}
