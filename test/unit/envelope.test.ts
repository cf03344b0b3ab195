import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ENVELOPE_VERSION,
  MAX_BODY_BYTES,
  SNOOP_SPY_SIGNAL,
  assertJsonSerialisable,
  decodeEnvelope,
  encodeEnvelope,
  type Envelope,
} from '../../runtime/net/envelope.ts';
import { EnvelopeError, PayloadError } from '../../runtime/net/errors.ts';
import { Fernet, generateKey } from '../../runtime/net/fernet.ts';
import { RESTAMP_AFTER_MS, SealedEnvelope } from '../../runtime/net/sealed-envelope.ts';

const fernet = new Fernet(generateKey());
const other = new Fernet(generateKey());
const base = { sender: 'a1_ao', host: '127.0.0.11', seq: 7, ts: 1_700_000_000_123, signal: 'other_to_inner' };

const reasonOf = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (err) {
    if (err instanceof EnvelopeError) return err.reason;
    throw err;
  }
  return undefined;
};
const encryptJson = (value: unknown, f = fernet) => Buffer.from(f.encrypt(JSON.stringify(value)));

describe('envelope', () => {
  it('round-trips an event', () => {
    const payload = { name: 'a1_ao', n: [1, 2.5, -3], nested: { ok: true, s: 'ü✓' }, nil: null };
    const env = decodeEnvelope(fernet, encodeEnvelope(fernet, { ...base, payload }));
    expect(env).toEqual({ v: ENVELOPE_VERSION, ...base, payload });
  });

  it('sends an undefined payload as null and carries snoop lines as text', () => {
    expect(decodeEnvelope(fernet, encodeEnvelope(fernet, { ...base, payload: undefined })).payload).toBeNull();
    const line = '[2018-05-04 08:02:36.593144] [0ca32_ao] e->start_at() top->outer\n';
    const env = decodeEnvelope(fernet, encodeEnvelope(fernet, { ...base, signal: SNOOP_SPY_SIGNAL, payload: line }));
    expect(env.signal).toBe('SNOOP_SPY');
    expect(env.payload).toBe(line);
  });

  it('the body is the Fernet token in ASCII', () => {
    const body = encodeEnvelope(fernet, { ...base, payload: 1 });
    expect(body.toString('latin1')).toMatch(/^gAAAAA[A-Za-z0-9_=-]+$/);
  });

  it('rejects payloads that are not JSON-serialisable, naming what failed', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    const cases: Array<[unknown, RegExp]> = [
      [() => 1, /^payload is a function/],
      [{ cb: function named() {} }, /^payload\.cb is a function \(named\)/],
      [Symbol('s'), /^payload is a symbol/],
      [{ big: 10n }, /^payload\.big is bigint 10n/],
      [[1, Number.NaN], /^payload\[1\] is NaN/],
      [{ x: { 'a b': Infinity } }, /^payload\.x\["a b"\] is Infinity/],
      [cyclic, /^payload\.self is a circular reference/],
      [new Map([[1, 2]]), /^payload is a Map/],
      [{ s: new Set() }, /^payload\.s is a Set/],
      [{ [Symbol('k')]: 1 }, /symbol key/],
    ];
    for (const [payload, message] of cases) {
      let caught: unknown;
      try {
        encodeEnvelope(fernet, { ...base, payload });
      } catch (err) {
        caught = err;
      }
      expect(caught, String(message)).toBeInstanceOf(PayloadError);
      expect((caught as PayloadError).code).toBe('PAYLOAD');
      expect((caught as Error).message).toMatch(message);
    }
  });

  it('accepts shared references, dates and nested undefined', () => {
    const shared = { k: 1 };
    expect(() => assertJsonSerialisable({ a: shared, b: shared, d: new Date(0), u: undefined, arr: [undefined] })).not.toThrow();
    const env = decodeEnvelope(fernet, encodeEnvelope(fernet, { ...base, payload: { d: new Date(0), u: undefined, arr: [undefined] } }));
    expect(env.payload).toEqual({ d: '1970-01-01T00:00:00.000Z', arr: [null] });
  });

  it('rejects a payload whose body would be over MAX_BODY_BYTES', () => {
    expect(() => encodeEnvelope(fernet, { ...base, payload: 'x'.repeat(MAX_BODY_BYTES) })).toThrow(PayloadError);
  });

  it('a SealedEnvelope refuses an oversize body when made, and encrypts only when its body is asked for, once while fresh', () => {
    // the largest payload whose body fits, and one character more (the check needs no encryption)
    const fits = (n: number) => {
      try {
        return encodeEnvelope(fernet, { ...base, payload: 'x'.repeat(n) }).length <= MAX_BODY_BYTES;
      } catch {
        return false;
      }
    };
    let [n, over] = [0, MAX_BODY_BYTES]; // fits(n), not fits(over)
    while (over - n > 1) {
      const mid = Math.floor((n + over) / 2);
      if (fits(mid)) n = mid;
      else over = mid;
    }
    expect(() => new SealedEnvelope(fernet, { ...base, payload: 'x'.repeat(n) })).not.toThrow();
    expect(() => new SealedEnvelope(fernet, { ...base, payload: 'x'.repeat(n + 1) })).toThrow(PayloadError);
    let encryptions = 0;
    const counting = { encrypt: fernet.encrypt.bind(fernet), decrypt: fernet.decrypt.bind(fernet), encryptToBuffer: (p: Buffer | string) => (encryptions++, fernet.encryptToBuffer(p)) };
    let now = 1_700_000_000_000;
    const sealed = new SealedEnvelope(counting, { ...base, payload: { n: 1 } }, () => now);
    expect(encryptions).toBe(0);
    const first = sealed.body();
    expect(sealed.body()).toBe(first); // the fan-out's other brokers get the same bytes
    expect(encryptions).toBe(1);
    now += RESTAMP_AFTER_MS;
    expect(sealed.body()).not.toBe(first); // waited: stamped and encrypted again
    expect(encryptions).toBe(2);
    expect(decodeEnvelope(fernet, sealed.body()).payload).toEqual({ n: 1 });
  });

  it('rejects bad header fields at encode', () => {
    expect(() => encodeEnvelope(fernet, { ...base, seq: -1, payload: null })).toThrow(TypeError);
    expect(() => encodeEnvelope(fernet, { ...base, signal: '', payload: null })).toThrow(TypeError);
  });

  it('names the reason a body is refused', () => {
    const good = encodeEnvelope(fernet, { ...base, payload: null });
    expect(reasonOf(() => decodeEnvelope(fernet, good, { maxBytes: 10 }))).toBe('oversize');
    expect(reasonOf(() => decodeEnvelope(fernet, Buffer.alloc(MAX_BODY_BYTES + 1, 0x41)))).toBe('oversize');
    expect(reasonOf(() => decodeEnvelope(other, good))).toBe('decrypt');
    expect(reasonOf(() => decodeEnvelope(fernet, Buffer.from('hello world')))).toBe('token');
    expect(reasonOf(() => decodeEnvelope(fernet, Buffer.from([0x80, 0xff, 0x00])))).toBe('token');
    expect(reasonOf(() => decodeEnvelope(fernet, Buffer.from(fernet.encrypt('not json'))))).toBe('json');
    expect(reasonOf(() => decodeEnvelope(fernet, Buffer.from(fernet.encrypt(Buffer.from([0xc3, 0x28])))))).toBe('json');
    expect(reasonOf(() => decodeEnvelope(fernet, encryptJson([1, 2])))).toBe('schema');
    expect(reasonOf(() => decodeEnvelope(fernet, encryptJson('str')))).toBe('schema');
    expect(reasonOf(() => decodeEnvelope(fernet, encryptJson({ ...base, v: 2, payload: 1 })))).toBe('version');
    expect(reasonOf(() => decodeEnvelope(fernet, encryptJson({ ...base, payload: 1 })))).toBe('version');
    expect(reasonOf(() => decodeEnvelope(fernet, encryptJson({ ...base, v: '1', payload: 1 })))).toBe('version');
    const wrong: Array<Partial<Record<keyof Envelope, unknown>>> = [
      { sender: 1 },
      { host: null },
      { seq: 1.5 },
      { seq: -1 },
      { seq: '3' },
      { ts: 'now' },
      { signal: '' },
      { signal: 5 },
    ];
    for (const w of wrong) {
      expect(reasonOf(() => decodeEnvelope(fernet, encryptJson({ v: 1, ...base, payload: 1, ...w }))), JSON.stringify(w)).toBe('schema');
    }
    const { payload: _p, ...noPayload } = { v: 1, ...base, payload: 1 };
    expect(reasonOf(() => decodeEnvelope(fernet, encryptJson(noPayload)))).toBe('schema');
  });

  it('ignores unknown extra fields', () => {
    const env = decodeEnvelope(fernet, encryptJson({ v: 1, ...base, payload: [1], extra: 'x' }));
    expect(env).toEqual({ v: 1, ...base, payload: [1] });
  });
});

// Whatever arrives, decode either returns a valid Envelope or throws EnvelopeError — never anything else.
describe('decodeEnvelope never throws anything but EnvelopeError (property)', () => {
  const check = (body: Buffer) => {
    try {
      const env = decodeEnvelope(fernet, body, { maxBytes: 64 * 1024 });
      expect(env.v).toBe(1);
      expect(typeof env.sender).toBe('string');
      expect(typeof env.host).toBe('string');
      expect(Number.isSafeInteger(env.seq) && env.seq >= 0).toBe(true);
      expect(Number.isFinite(env.ts)).toBe(true);
      expect(typeof env.signal === 'string' && env.signal.length > 0).toBe(true);
      expect('payload' in env).toBe(true);
      return true;
    } catch (err) {
      if (!(err instanceof EnvelopeError)) throw err;
      expect(['decrypt', 'token', 'json', 'version', 'schema', 'oversize']).toContain(err.reason);
      return false;
    }
  };

  it('random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 2048 }), (bytes) => void check(Buffer.from(bytes))), { numRuns: 2000 });
  });

  it('random base64url text', () => {
    const b64 = fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_='), maxLength: 400 });
    fc.assert(fc.property(b64, (s) => void check(Buffer.from('gAAAAA' + s))), { numRuns: 2000 });
  });

  it('mutated valid tokens', () => {
    const good = encodeEnvelope(fernet, { ...base, payload: { hello: 'world', n: [1, 2, 3] } });
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
      fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
      fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
    );
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (muts) => {
        let b = Buffer.from(good);
        for (const m of muts) {
          const at = b.length === 0 ? 0 : m.at % b.length;
          if (m.kind === 'flip' && b.length) b[at] ^= 1 << m.bit;
          else if (m.kind === 'set' && b.length) b[at] = m.byte;
          else if (m.kind === 'truncate') b = b.subarray(0, at);
          else if (m.kind === 'insert') b = Buffer.concat([b.subarray(0, at), Buffer.from(m.bytes), b.subarray(at)]);
        }
        const ok = check(b);
        // a mutation that keeps the token valid must leave the envelope unchanged (e.g. padding edits)
        if (ok) expect(decodeEnvelope(fernet, b).payload).toEqual({ hello: 'world', n: [1, 2, 3] });
      }),
      { numRuns: 3000 },
    );
  });

  it('random JSON plaintext encrypted with the right key', () => {
    const field = fc.oneof(fc.jsonValue(), fc.string(), fc.integer(), fc.constant(undefined));
    const obj = fc.record(
      { v: fc.oneof(fc.constant(1), fc.jsonValue()), sender: field, host: field, seq: field, ts: field, signal: field, payload: field },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), obj), (value) => {
        const text = JSON.stringify(value) ?? 'undefined';
        void check(Buffer.from(fernet.encrypt(text)));
      }),
      { numRuns: 2000 },
    );
  });

  it('well-formed envelopes with random payloads round-trip', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.string(), fc.nat(), (payload, sender, seq) => {
        const env = { ...base, sender, seq, payload };
        const back = decodeEnvelope(fernet, encodeEnvelope(fernet, env));
        // JSON normalises -0 to 0
        expect(back).toEqual({ v: 1, ...env, payload: JSON.parse(JSON.stringify(payload)) });
      }),
      { numRuns: 500 },
    );
  });
});

describe('network errors', () => {
  it('carry literal codes and their fields', async () => {
    const { BrokerClosedError, BrokerUnreachableError, ConfigError, IllegalOperationError, MirosNetError, OutboxOverflowError } = await import(
      '../../runtime/net/errors.ts'
    );
    const unreachable = new BrokerUnreachableError('amqp://peter:rabbit@127.0.0.11:5672/%2F?heartbeat_interval=3600');
    expect(unreachable).toBeInstanceOf(MirosNetError);
    expect(unreachable.code).toBe('BROKER_UNREACHABLE');
    expect(unreachable.url).toBe('amqp://peter:***@127.0.0.11:5672/%2F?heartbeat_interval=3600');
    expect(unreachable.message).not.toContain('rabbit');
    expect(unreachable.name).toBe('BrokerUnreachableError');
    const closed = new BrokerClosedError('closed', { replyCode: 320, classId: 10, methodId: 50 });
    expect([closed.code, closed.replyCode, closed.classId, closed.methodId]).toEqual(['BROKER_CLOSED', 320, 10, 50]);
    expect(new ConfigError('RABBIT_USER', 'm').code).toBe('CONFIG');
    expect(new IllegalOperationError('closed').code).toBe('ILLEGAL_OPERATION');
    const overflow = new OutboxOverflowError('127.0.0.12', 3);
    expect([overflow.code, overflow.broker, overflow.bound]).toEqual(['OUTBOX_OVERFLOW', '127.0.0.12', 3]);
    expect(new EnvelopeError('json', 'x').code).toBe('ENVELOPE');
    expect(new PayloadError('payload', 'x').code).toBe('PAYLOAD');
  });
});
