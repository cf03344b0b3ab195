// Key lists (runtime/net/key-ring.ts): Python's MultiFernet model, the swappable KeyRing, the
// two-step rotation, and how resolveNetConfig reads lists from options, the environment and .env.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadVectors, seconds } from './fernet-vectors.ts';
import { resolveNetConfig, type NetOptions } from '../../runtime/net/config.ts';
import { decodeEnvelope, encodeEnvelope } from '../../runtime/net/envelope.ts';
import { ConfigError, EnvelopeError } from '../../runtime/net/errors.ts';
import { Fernet, generateKey } from '../../runtime/net/fernet.ts';
import { KeyRing, MultiFernet, keyFingerprint, parseKeyList } from '../../runtime/net/key-ring.ts';

const reasonOf = (f: () => unknown): string => {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(EnvelopeError);
    return (err as EnvelopeError).reason;
  }
  throw new Error('expected an EnvelopeError');
};

describe('MultiFernet with the official Fernet vectors', () => {
  const generate = loadVectors('generate.json');
  const verify = loadVectors('verify.json');
  const invalid = loadVectors('invalid.json');
  const other = generateKey();

  it('has all the vectors', () => {
    expect([generate.length, verify.length, invalid.length]).toEqual([1, 1, 8]);
  });

  it.each(generate.map((v, i) => [i, v] as const))('generate #%i: the first key encrypts, byte-exact', (_i, v) => {
    const token = new MultiFernet([v.secret, other]).encrypt(v.src!, { iv: Buffer.from(v.iv!), time: seconds(v.now) });
    expect(token).toBe(v.token);
    // the vector's key second: it no longer encrypts
    expect(new MultiFernet([other, v.secret]).encrypt(v.src!, { iv: Buffer.from(v.iv!), time: seconds(v.now) })).not.toBe(v.token);
  });

  it.each(verify.map((v, i) => [i, v] as const))('verify #%i: any key of the list decrypts (vector key last)', (_i, v) => {
    const multi = new MultiFernet([other, generateKey(), v.secret]);
    expect(multi.decryptWithIndex(v.token, { ttl: v.ttl_sec, now: seconds(v.now) })).toEqual({ plain: Buffer.from(v.src!), index: 2 });
  });

  it.each(invalid.map((v) => [v.desc!, v] as const))('invalid: %s fails for the list with the reason a single Fernet gives', (_d, v) => {
    const opts = { ttl: v.ttl_sec, now: seconds(v.now) };
    const single = reasonOf(() => new Fernet(v.secret).decrypt(v.token, opts));
    expect(reasonOf(() => new MultiFernet([other, v.secret]).decrypt(v.token, opts))).toBe(single);
    expect(reasonOf(() => new MultiFernet([v.secret, other]).decrypt(v.token, opts))).toBe(single);
  });
});

describe('MultiFernet', () => {
  const [a, b, c] = [generateKey(), generateKey(), generateKey()];

  it('a token of no key of the list fails with reason decrypt, saying how many keys were tried', () => {
    const token = new Fernet(c).encrypt('x');
    expect(() => new MultiFernet([a, b]).decrypt(token)).toThrow(
      expect.objectContaining({ reason: 'decrypt', message: expect.stringMatching(/each of the 2 keys/) }),
    );
    // one key: the single Fernet's error, unchanged
    expect(() => new MultiFernet(a).decrypt(token)).toThrow(expect.objectContaining({ reason: 'decrypt', message: expect.stringMatching(/^Fernet signature mismatch \(/) }));
  });

  it('a malformed or expired token fails with reason token, whichever key', () => {
    const m = new MultiFernet([a, b]);
    expect(reasonOf(() => m.decrypt('not a token'))).toBe('token');
    const old = new Fernet(b).encrypt('x', { time: 1000 });
    expect(reasonOf(() => m.decrypt(old, { ttl: 10, now: 2000 }))).toBe('token');
    expect(m.decrypt(old, { ttl: 10, now: 1005 }).toString()).toBe('x');
  });

  it('rotate re-encrypts under the first key and keeps the timestamp (Python MultiFernet.rotate)', () => {
    const token = new Fernet(a).encrypt('payload', { time: 1234 });
    const rotated = new MultiFernet([b, a]).rotate(token);
    expect(new Fernet(b).decrypt(rotated).toString()).toBe('payload');
    expect(Fernet.timestamp(rotated)).toBe(1234);
    expect(reasonOf(() => new Fernet(a).decrypt(rotated))).toBe('decrypt');
  });

  it('carries the envelope like a Fernet', () => {
    const env = { sender: 's', host: 'h', seq: 1, ts: 2, signal: 'PING', payload: { n: 1 } };
    const body = encodeEnvelope(new MultiFernet([a, b]), env);
    expect(decodeEnvelope(new MultiFernet([b, a]), body)).toMatchObject(env);
    expect(decodeEnvelope(new Fernet(a), body)).toMatchObject(env);
  });
});

describe('parseKeyList', () => {
  const [a, b] = [generateKey(), generateKey()];

  it('takes one key, an array, or comma-separated text (spaces ignored), in canonical form', () => {
    expect(parseKeyList(a)).toEqual([a]);
    expect(parseKeyList(a.replace(/=$/, ''))).toEqual([a]);
    expect(parseKeyList(`${a}, ${b}`)).toEqual([a, b]);
    expect(parseKeyList([b, Buffer.from(a)])).toEqual([b, a]);
    expect(parseKeyList(Buffer.from(a, 'base64url'))).toEqual([a]);
  });

  it('names the position of a bad key, and never the key', () => {
    const secret = 'this-is-not-a-key';
    expect(() => parseKeyList(`${a},${secret}`, 'MESH_ENCRYPTION_KEY')).toThrow(
      new TypeError('MESH_ENCRYPTION_KEY: key 2 of 2 is not a 32-byte url-safe base64 Fernet key'),
    );
    expect(() => parseKeyList(secret, 'X')).toThrow(new TypeError('X is not a 32-byte url-safe base64 Fernet key'));
    expect(() => parseKeyList(`${a},`)).toThrow(/key 2 of 2/);
    expect(() => parseKeyList([])).toThrow(/is empty/);
    expect(() => parseKeyList(42 as never)).toThrow(/is not a 32-byte/);
  });

  it('fingerprints are short, stable and not the key', () => {
    expect(keyFingerprint(a)).toMatch(/^[0-9a-f]{8}$/);
    expect(keyFingerprint(a.replace(/=$/, ''))).toBe(keyFingerprint(a));
    expect(keyFingerprint(a)).not.toBe(keyFingerprint(b));
  });
});

describe('KeyRing', () => {
  it('use() swaps the list for the next encrypt and decrypt; usage counts per key', () => {
    const [old, next] = [generateKey(), generateKey()];
    const ring = new KeyRing(old);
    const fromOld = new Fernet(old).encrypt('1');
    const fromNext = new Fernet(next).encrypt('2');
    expect(ring.decrypt(fromOld).toString()).toBe('1');
    expect(reasonOf(() => ring.decrypt(fromNext))).toBe('decrypt');
    ring.use([old, next]);
    expect(new Fernet(old).decrypt(ring.encrypt('still old')).toString()).toBe('still old');
    expect(ring.decrypt(fromNext).toString()).toBe('2');
    expect(ring.decrypt(fromOld).toString()).toBe('1');
    expect(ring.decrypt(fromNext).toString()).toBe('2');
    expect(ring.usage()).toEqual([
      { fingerprint: keyFingerprint(old), decrypted: 1 },
      { fingerprint: keyFingerprint(next), decrypted: 2 },
    ]);
    ring.use(`${next},${old}`);
    expect(new Fernet(next).decrypt(ring.encrypt('new')).toString()).toBe('new');
    expect(ring.usage().map((u) => u.decrypted)).toEqual([0, 0]);
  });

  it('a bad list is refused whole and the ring keeps its keys', () => {
    const key = generateKey();
    const ring = new KeyRing(key);
    expect(() => ring.use([generateKey(), 'bad'])).toThrow(/key 2 of 2/);
    expect(() => ring.use([])).toThrow(/empty/);
    expect(new Fernet(key).decrypt(ring.encrypt('same')).toString()).toBe('same');
    expect(ring.usage()).toEqual([{ fingerprint: keyFingerprint(key), decrypted: 0 }]);
  });
});

/**
 * Three nodes rotating while tokens are in flight: every node sends one token per tick to
 * every other node; a token is read a few ticks later (a queue); the nodes switch lists one
 * after the other (a rollout, slower than a token's trip), never all at once. Returns the tokens no receiver could open.
 */
function simulateRollout(steps: string[][]): { lost: number; delivered: number } {
  const nodes = [0, 1, 2].map(() => new KeyRing(steps[0]));
  const inFlight: { to: number; token: string; due: number }[] = [];
  let lost = 0;
  let delivered = 0;
  let tick = 0;
  const run = (ticks: number) => {
    for (let t = 0; t < ticks; t++, tick++) {
      nodes.forEach((from, i) => nodes.forEach((_to, j) => i !== j && inFlight.push({ to: j, token: from.encrypt(`${i}>${j}@${tick}`), due: tick + 3 })));
      for (const m of inFlight.filter((m) => m.due <= tick)) {
        inFlight.splice(inFlight.indexOf(m), 1);
        try {
          nodes[m.to].decrypt(m.token);
          delivered++;
        } catch {
          lost++;
        }
      }
    }
  };
  run(5);
  for (const step of steps.slice(1)) {
    for (const node of nodes) {
      node.use(step);
      run(4); // a rollout slower than the queues: the others still have the previous list
    }
    run(5);
  }
  run(10);
  return { lost, delivered };
}

describe('rotation across running nodes', () => {
  const [old, next] = [generateKey(), generateKey()];

  it('two steps ([old, new] everywhere, then [new, old]), then retiring old: nothing lost', () => {
    const r = simulateRollout([[old], [old, next], [next, old], [next]]);
    expect(r).toEqual({ lost: 0, delivered: expect.any(Number) });
    expect(r.delivered).toBeGreaterThan(100);
  });

  it('switching straight to the new key loses the tokens in flight (why two steps are needed)', () => {
    expect(simulateRollout([[old], [next]]).lost).toBeGreaterThan(0);
    // encrypting with new before everyone decrypts it loses too
    expect(simulateRollout([[old], [next, old]]).lost).toBeGreaterThan(0);
  });
});

describe('resolveNetConfig reads key lists', () => {
  const [k1, k2, k3] = [generateKey(), generateKey(), generateKey()];
  const base: NetOptions = { rabbitUser: 'peter', rabbitPassword: 'rabbit' };
  const dir = mkdtempSync(path.join(os.tmpdir(), 'miros-keyring-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a single key works as before: the list is that key', () => {
    const c = resolveNetConfig({ ...base, meshEncryptionKey: k1 }, {}, { dotenvPath: false });
    expect(c.meshEncryptionKey).toBe(k1);
    expect(c.encryptionKeys).toEqual({ mesh: [k1], trace: [k1], spy: [k1] });
  });

  it('comma-separated in the environment and .env, an array as an option; snoop keys fall back to the mesh list', () => {
    const env = resolveNetConfig(base, { MESH_ENCRYPTION_KEY: `${k1}, ${k2}`, SNOOP_SPY_ENCRYPTION_KEY: `${k3},${k1}` }, { dotenvPath: false });
    expect(env.encryptionKeys).toEqual({ mesh: [k1, k2], trace: [k1, k2], spy: [k3, k1] });
    expect(env.meshEncryptionKey).toBe(k1);
    expect(env.snoopSpyEncryptionKey).toBe(k3);
    const file = path.join(dir, '.env');
    writeFileSync(file, `MESH_ENCRYPTION_KEY=${k2},${k1}\nSNOOP_TRACE_ENCRYPTION_KEY="${k3}, ${k2}"\n`);
    const dot = resolveNetConfig(base, {}, { dotenvPath: file });
    expect(dot.encryptionKeys).toEqual({ mesh: [k2, k1], trace: [k3, k2], spy: [k2, k1] });
    expect(dot.sources.meshEncryptionKey).toBe('dotenv');
    const opt = resolveNetConfig({ ...base, meshEncryptionKey: [k3, Buffer.from(k1)] }, {}, { dotenvPath: false });
    expect(opt.encryptionKeys.mesh).toEqual([k3, k1]);
  });

  it('a snoop-only listener takes lists too', () => {
    const c = resolveNetConfig(base, { SNOOP_TRACE_ENCRYPTION_KEY: `${k1},${k2}` }, { dotenvPath: false, meshKeyRequired: false });
    expect(c.encryptionKeys.trace).toEqual([k1, k2]);
    expect(c.encryptionKeys.spy).toEqual([k1, k2]);
  });

  it('a bad list is a ConfigError naming the variable and the position, never the key', () => {
    const secret = 'not-a-key-but-secret';
    let caught: unknown;
    try {
      resolveNetConfig(base, { MESH_ENCRYPTION_KEY: `${k1},${secret}` }, { dotenvPath: false });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).message).toBe('MESH_ENCRYPTION_KEY: key 2 of 2 is not a 32-byte url-safe base64 Fernet key (from environment)');
    expect((caught as ConfigError).message).not.toContain(secret);
    expect((caught as ConfigError).option).toBe('meshEncryptionKey');
    expect(() => resolveNetConfig({ ...base, meshEncryptionKey: [] }, {}, { dotenvPath: false })).toThrow(/meshEncryptionKey is empty/);
  });
});

// Python's own MultiFernet reads our tokens after a rotation and we read its (the model we follow).
const python = '/usr/bin/python3';
const hasPythonFernet = spawnSync(python, ['-c', 'import cryptography.fernet'], { encoding: 'utf8' }).status === 0;
const skipPython = !hasPythonFernet && process.getuid?.() !== 0;

describe.skipIf(skipPython)(`MultiFernet interoperates with Python's MultiFernet${skipPython ? ' (NEEDS python3-cryptography: not run; as root `make test` installs it)' : ''}`, () => {
  it('Python MultiFernet([new, old]) opens our [old] token and its rotate() output opens here with [new]', () => {
    const [old, next] = [generateKey(), generateKey()];
    const token = new MultiFernet([old, next]).encrypt('from TypeScript');
    const r = spawnSync(
      python,
      [
        '-c',
        'import sys; from cryptography.fernet import Fernet, MultiFernet\n' +
          'new, old, t = sys.stdin.read().split("\\n")\n' +
          'm = MultiFernet([Fernet(new.encode()), Fernet(old.encode())])\n' +
          'print(m.decrypt(t.encode()).decode()); print(m.rotate(t.encode()).decode()); print(m.encrypt(b"from Python").decode())',
      ],
      { input: `${next}\n${old}\n${token}`, encoding: 'utf8', timeout: 30_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    const [plain, rotated, fromPython] = r.stdout.trim().split('\n');
    expect(plain).toBe('from TypeScript');
    expect(new MultiFernet(next).decrypt(rotated).toString()).toBe('from TypeScript');
    expect(Fernet.timestamp(rotated)).toBe(Fernet.timestamp(token));
    expect(new MultiFernet([old, next]).decryptWithIndex(fromPython).index).toBe(1);
  });
});
