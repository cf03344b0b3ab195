// The one retry policy (runtime/net/retry.ts): delays, cap, jitter bounds, and which errors
// are permanent, on the messages amqplib really produces (recorded against RabbitMQ 3/4).
import { describe, expect, it } from 'vitest';
import { RECOVERY } from '../../runtime/net/connection.ts';
import { RETRY, classifyError, replyCodeOf, retryDelayMs } from '../../runtime/net/retry.ts';

const fixed = (r: number) => () => r;

describe('retryDelayMs', () => {
  it('starts at ~100 ms and doubles (no jitter at random 0.5)', () => {
    expect([1, 2, 3, 4, 5].map((n) => retryDelayMs(n, fixed(0.5)))).toEqual([100, 200, 400, 800, 1600]);
  });

  it('is capped so that base + jitter never exceeds 2 s', () => {
    const cap = Math.round(RETRY.maxDelayMs / (1 + RETRY.jitter));
    for (const n of [6, 7, 10, 50, 1000, Number.MAX_SAFE_INTEGER]) {
      expect(retryDelayMs(n, fixed(0.5))).toBe(cap);
      expect(retryDelayMs(n, fixed(0.999999))).toBeLessThanOrEqual(RETRY.maxDelayMs);
      expect(retryDelayMs(n, fixed(1))).toBe(RETRY.maxDelayMs);
    }
  });

  it('jitters within ±20 % of the base', () => {
    for (let n = 1; n <= 8; n++) {
      const base = Math.min(RETRY.maxDelayMs / (1 + RETRY.jitter), RETRY.initialDelayMs * 2 ** (n - 1));
      expect(retryDelayMs(n, fixed(0))).toBe(Math.round(base * (1 - RETRY.jitter)));
      expect(retryDelayMs(n, fixed(1))).toBe(Math.round(base * (1 + RETRY.jitter)));
      for (let i = 0; i < 200; i++) {
        const d = retryDelayMs(n, Math.random);
        expect(d).toBeGreaterThanOrEqual(Math.floor(base * (1 - RETRY.jitter)));
        expect(d).toBeLessThanOrEqual(Math.ceil(base * (1 + RETRY.jitter)));
      }
    }
  });

  it('is a pure function of attempt and random; nonsense attempts count as the first', () => {
    expect(retryDelayMs(3, fixed(0.25))).toBe(retryDelayMs(3, fixed(0.25)));
    expect(retryDelayMs(0, fixed(0.5))).toBe(100);
    expect(retryDelayMs(-4, fixed(0.5))).toBe(100);
    expect(retryDelayMs(Number.NaN, fixed(0.5))).toBe(100);
  });

  it('drives amqplib recovery (RECOVERY in connection.ts), capped at the policy maximum', () => {
    expect(RECOVERY.maxDelay).toBe(2000);
    expect(RECOVERY.initialDelay).toBe(100);
    for (let n = 1; n < 20; n++) expect(RECOVERY.calculateDelay(n)).toBeLessThanOrEqual(2000);
  });
});

/** Error messages and codes as amqplib 2.x produces them. */
const errno = (code: string, message: string) => Object.assign(new Error(message), { code });
const amqp = {
  wrongPassword: new Error(
    'Handshake terminated by server: 403 (ACCESS-REFUSED) with message "ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN. For details see the broker logfile."',
  ),
  missingVhost: new Error('Expected ConnectionOpenOk; got <ConnectionClose channel:0>'),
  closedNotAllowed: Object.assign(new Error('Connection closed: 530 (NOT-ALLOWED) with message "NOT_ALLOWED - vhost nohost not found"'), { code: 530 }),
  forced: Object.assign(new Error('Connection closed: 320 (CONNECTION-FORCED) with message "CONNECTION_FORCED - broker forced connection closure with reason \'shutdown\'"'), { code: 320 }),
  refused: errno('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.99:5672'),
  reset: errno('ECONNRESET', 'read ECONNRESET'),
  timedOut: errno('ETIMEDOUT', 'connect ETIMEDOUT 10.77.0.13:5672'),
  unreachable: errno('EHOSTUNREACH', 'connect EHOSTUNREACH 10.77.0.13:5672'),
  heartbeat: new Error('Heartbeat timeout'),
  closed: new Error('Connection closed'),
  socketClosed: new Error('Socket closed abruptly during opening handshake'),
};

describe('classifyError', () => {
  it.each([
    ['a wrong password or the guest user (403)', amqp.wrongPassword, 403],
    ['a missing vhost (530 at connection.open, code lost by amqplib)', amqp.missingVhost, 530],
    ['530 NOT_ALLOWED on close', amqp.closedNotAllowed, 530],
  ])('%s is permanent', (_what, err, code) => {
    expect(classifyError(err)).toBe('permanent');
    expect(replyCodeOf(err)).toBe(code);
  });

  it.each(Object.entries({
    ECONNREFUSED: amqp.refused,
    ECONNRESET: amqp.reset,
    ETIMEDOUT: amqp.timedOut,
    EHOSTUNREACH: amqp.unreachable,
    'heartbeat timeout': amqp.heartbeat,
    '320 CONNECTION_FORCED': amqp.forced,
    'connection closed': amqp.closed,
    'socket closed in the handshake': amqp.socketClosed,
    'an unknown error': new Error('something odd'),
    'a string': 'boom',
    undefined: undefined,
  }))('%s is transient', (_what, err) => {
    expect(classifyError(err)).toBe('transient');
  });

  it('follows cause, so a wrapped refusal stays permanent', () => {
    const wrapped = new Error('3 connection attempts failed', { cause: amqp.wrongPassword });
    expect(classifyError(wrapped)).toBe('permanent');
    expect(replyCodeOf(wrapped)).toBe(403);
    expect(classifyError(new Error('wrapped', { cause: amqp.refused }))).toBe('transient');
  });
});

describe('classifyError: the retried classes of issue 30', () => {
  it('a certificate error is tls, a declaration the broker has differently is mismatch (both retried)', () => {
    expect(classifyError(Object.assign(new Error('certificate has expired'), { code: 'CERT_HAS_EXPIRED' }))).toBe('tls');
    expect(classifyError(new Error(`PRECONDITION_FAILED - inequivalent arg 'x-message-ttl' for queue 'q' in vhost '/': received the value '5000' of type 'signedint' but current is the value '50000' of type 'signedint'`))).toBe('mismatch');
    expect(classifyError(new Error('PRECONDITION_FAILED - unknown delivery tag 7'))).toBe('transient');
  });
});
