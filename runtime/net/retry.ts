// The one retry policy of the networked layer (docs/design/links-and-backends.md §2):
// how long to wait before the next attempt, and which errors are worth another attempt.
// Pure functions (the random source is injected), so they are unit tested without a broker.
import { realEnvironment } from '../env/environment.ts';
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
 * spread at the cap. `random` is a number in [0, 1) (default: the real environment's).
 */
export function retryDelayMs(attempt: number, random: () => number = realEnvironment.random): number {
  const n = Number.isFinite(attempt) && attempt >= 1 ? Math.floor(attempt) : 1;
  const cappedBase = RETRY.maxDelayMs / (1 + RETRY.jitter);
  const base = Math.min(cappedBase, RETRY.initialDelayMs * RETRY.factor ** Math.min(n - 1, 30));
  const r = Math.min(1, Math.max(0, random()));
  const offset = (r * 2 - 1) * base * RETRY.jitter;
  return Math.max(0, Math.round(base + offset));
}

/**
 * 'permanent': the broker refused us (403, 530): that member is not retried.
 * 'tls': a certificate error: retried with the capped backoff (a renewed certificate is
 *   picked up without a restart) and reported.
 * 'mismatch': what we declare differs from what the broker has (406 PRECONDITION_FAILED,
 *   "inequivalent arg"): retried with the capped backoff (someone may delete the old queue)
 *   and reported once, by name, with what to change (configMismatch, mismatchAdvice).
 * 'transient': everything else (the network, a restarting broker): retried.
 */
export type ErrorClass = 'permanent' | 'transient' | 'tls' | 'mismatch';

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
 * Permanent: the broker answered and refused (403 ACCESS_REFUSED, 530 NOT_ALLOWED). 'tls': a
 * certificate error (tls.ts tlsProblem). 'mismatch': a declaration the broker's differs from
 * (406 "inequivalent arg"). Everything else is transient (ECONNREFUSED, ECONNRESET,
 * ETIMEDOUT, EHOSTUNREACH, 'Heartbeat timeout', 320 CONNECTION_FORCED, unknown errors).
 * Follows `cause`, so a wrapped amqplib error is classified by what it wraps.
 */
export function classifyError(err: unknown): ErrorClass {
  // 403 too, but no configuration error: another consumer holds a chart's queue, maybe a
  // killed process whose connection the broker has not noticed yet; retrying finds out.
  if (inExclusiveUse(err)) return 'transient';
  const code = replyCodeOf(err);
  if (code !== undefined && code in PERMANENT_REPLY_CODES) return 'permanent';
  if (tlsProblem(err) !== undefined) return 'tls'; // retried: the certificate may be renewed
  if (configMismatch(err) !== undefined) return 'mismatch';
  for (const e of causeChain(err)) {
    const message = e instanceof Error ? e.message : typeof e === 'string' ? e : '';
    if (/\bACCESS[-_]REFUSED\b|\bNOT[-_]ALLOWED\b/.test(message)) return 'permanent';
  }
  return 'transient';
}

/** A declaration the broker has differently (from RabbitMQ's 406 text). */
export interface ConfigMismatch {
  /** 'queue' or 'exchange'. */
  kind: string;
  name: string;
  /** The argument that differs: 'x-queue-type', 'x-message-ttl', 'type', 'durable', … */
  arg: string;
  /** What we declared, and what the broker has. */
  declared: string;
  current: string;
}

/**
 * The mismatch in a 406 PRECONDITION_FAILED, e.g. "PRECONDITION_FAILED - inequivalent arg
 * 'x-queue-type' for queue 'q' in vhost '/': received 'classic' but current is 'quorum'";
 * undefined for any other error (a 406 for an unknown delivery tag is a bug, not configuration).
 */
export function configMismatch(err: unknown): ConfigMismatch | undefined {
  for (const e of causeChain(err)) {
    const message = e instanceof Error ? e.message : typeof e === 'string' ? e : '';
    const m = /inequivalent arg '([^']+)' for (queue|exchange) '([^']*)' in vhost '[^']*': received (.+?) but current is (.+?)(?:"|$)/.exec(message);
    if (m) return { arg: m[1]!, kind: m[2]!, name: m[3]!, declared: unquote(m[4]!), current: unquote(m[5]!) };
  }
  return undefined;
}

/** "the value 'quorum' of type 'longstr'" → quorum, "'true'" → true, "none" stays. */
const unquote = (v: string) =>
  v
    .trim()
    .replace(/^the value '(.*)' of type '[^']*'$/, '$1')
    .replace(/^the value (\S+) of type '[^']*'$/, '$1')
    .replace(/^'(.*)'$/, '$1');

/** Which setting of ours decides a declaration's argument (for the advice). */
const MISMATCH_SETTINGS: Readonly<Record<string, string>> = {
  'x-queue-type': 'the topology (MIROS_TOPOLOGY / topology: clustered declares quorum queues, mesh classic ones)',
  'x-message-ttl': 'messageTtl (MIROS_MESSAGE_TTL_MS)',
  'x-expires': 'the runtime version (the queue expiry is fixed per version)',
  'x-dead-letter-exchange': 'the runtime version (dead-lettering is fixed per version)',
};

/** One line: which declaration differs, from what, and what to change. */
export function mismatchAdvice(m: ConfigMismatch): string {
  const cli = m.kind === 'queue' ? `rabbitmqctl delete_queue ${m.name}` : `rabbitmqadmin delete exchange name=${m.name}`;
  const setting = MISMATCH_SETTINGS[m.arg];
  return (
    `${m.kind} '${m.name}' exists on the broker with ${m.arg} ${m.current}, this process declares ${m.declared}: ` +
    `delete the old ${m.kind} (${cli}; it is made again) or ${setting ? `set ${setting} to match` : 'declare it as the broker has it'}; retrying meanwhile`
  );
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
