// The one retry policy of the networked layer (docs/design/links-and-backends.md §2):
// how long to wait before the next attempt, and which errors are worth another attempt.
// Pure functions (the random source is injected), so they are unit tested without a broker.
import { tlsProblem } from './tls.ts';

export const RETRY = {
  /** The first retry waits about this long ... */
  initialDelayMs: 100,
  /** ... each further one twice as long ... */
  factor: 2,
  /** ... never longer than this: a healed path or restarted broker is used again within ~2 s. */
  maxDelayMs: 2000,
  /** ± this fraction of the delay, so links cut together do not retry in lockstep. */
  jitter: 0.2,
  /**
   * A connection attempt that goes quiet this long before the AMQP handshake completes is
   * abandoned and retried: a SYN lost in a cut (the kernel retransmits it after 1, 3, 7,
   * 15 s…), a paused broker or one still booting would otherwise hold the link's only attempt
   * long after the path is back. Idle time, so a slow but moving TLS handshake is not cut.
   */
  attemptTimeoutMs: 3000,
} as const;

/**
 * The delay before retry number `attempt` (1 = the first retry): 100, 200, 400, 800, 1600,
 * then capped, each ±20 %. The base is capped at `maxDelayMs / (1 + jitter)` (as amqplib's
 * built-in backoff does) so base + jitter never exceeds `maxDelayMs` and the jitter stays
 * spread at the cap. `random` is a number in [0, 1) (default Math.random).
 */
export function retryDelayMs(attempt: number, random: () => number = Math.random): number {
  const n = Number.isFinite(attempt) && attempt >= 1 ? Math.floor(attempt) : 1;
  const cappedBase = RETRY.maxDelayMs / (1 + RETRY.jitter);
  const base = Math.min(cappedBase, RETRY.initialDelayMs * RETRY.factor ** Math.min(n - 1, 30));
  const r = Math.min(1, Math.max(0, random()));
  const offset = (r * 2 - 1) * base * RETRY.jitter;
  return Math.max(0, Math.round(base + offset));
}

export type ErrorClass = 'permanent' | 'transient';

/** AMQP reply codes that no retry can fix: the broker refuses us as we are configured. */
export const PERMANENT_REPLY_CODES: Readonly<Record<number, string>> = {
  403: 'ACCESS_REFUSED', // wrong user or password, or the guest user from another host
  530: 'NOT_ALLOWED', // missing vhost, or no permission on it
};

/** The AMQP reply code of an amqplib error: its numeric `code`, or the code in its message. */
export function replyCodeOf(err: unknown): number | undefined {
  for (const e of causeChain(err)) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'number') return code;
    const message = e instanceof Error ? e.message : typeof e === 'string' ? e : '';
    // amqplib: 'Handshake terminated by server: 403 (ACCESS-REFUSED) with message "…"',
    //          'Connection closed: 530 (NOT-ALLOWED) with message "…"'
    const m = /(?:terminated by server|closed): (\d{3}) \(/.exec(message);
    if (m) return Number(m[1]);
    // amqplib drops the code when the broker answers connection.open with a close; RabbitMQ
    // does that with 530 NOT_ALLOWED (missing vhost, no permission on it, connection limit)
    if (/^Expected ConnectionOpenOk; got <ConnectionClose\b/.test(message)) return 530;
  }
  return undefined;
}

/**
 * Permanent: the broker answered and refused (403 ACCESS_REFUSED, 530 NOT_ALLOWED), or TLS
 * failed on a certificate (tls.ts tlsProblem): retrying only hides a configuration error. Everything else is transient (ECONNREFUSED, ECONNRESET,
 * ETIMEDOUT, EHOSTUNREACH, 'Heartbeat timeout', 320 CONNECTION_FORCED, unknown errors).
 * Follows `cause`, so a wrapped amqplib error is classified by what it wraps.
 */
export function classifyError(err: unknown): ErrorClass {
  // 403 too, but no configuration error: another consumer holds a chart's queue, maybe a
  // killed process whose connection the broker has not noticed yet; retrying finds out.
  if (inExclusiveUse(err)) return 'transient';
  const code = replyCodeOf(err);
  if (code !== undefined && code in PERMANENT_REPLY_CODES) return 'permanent';
  if (tlsProblem(err) !== undefined) return 'permanent'; // an untrusted certificate stays untrusted
  for (const e of causeChain(err)) {
    const message = e instanceof Error ? e.message : typeof e === 'string' ? e : '';
    if (/\bACCESS[-_]REFUSED\b|\bNOT[-_]ALLOWED\b/.test(message)) return 'permanent';
  }
  return 'transient';
}

/** RabbitMQ's answer to a second exclusive consumer: "ACCESS_REFUSED - queue '…' in vhost '/' in exclusive use". */
export function inExclusiveUse(err: unknown): boolean {
  for (const e of causeChain(err)) {
    const message = e instanceof Error ? e.message : typeof e === 'string' ? e : '';
    if (/in exclusive use|RESOURCE[-_]LOCKED/.test(message)) return true;
  }
  return false;
}

function* causeChain(err: unknown): Generator<unknown> {
  const seen = new Set<unknown>();
  for (let e: unknown = err; e !== undefined && e !== null && !seen.has(e); e = (e as { cause?: unknown }).cause) {
    seen.add(e);
    yield e;
    if (typeof e !== 'object') return;
  }
}
