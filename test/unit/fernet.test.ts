import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { loadVectors, seconds } from './fernet-vectors.ts';
import { EnvelopeError } from '../../runtime/net/errors.ts';
import { Fernet, generateKey, isValidKey, normaliseKey, tokenLength } from '../../runtime/net/fernet.ts';

describe('Fernet official vectors', () => {
  const generate = loadVectors('generate.json');
  const verify = loadVectors('verify.json');
  const invalid = loadVectors('invalid.json');

  it('has all the vectors', () => {
    expect(generate.length).toBe(1);
    expect(verify.length).toBe(1);
    expect(invalid.length).toBe(8);
  });

  it.each(generate.map((v, i) => [i, v] as const))('generate #%i is byte-exact', (_i, v) => {
    const f = new Fernet(v.secret);
    const token = f.encrypt(v.src!, { iv: Buffer.from(v.iv!), time: seconds(v.now) });
    expect(token).toBe(v.token);
  });

  it.each(verify.map((v, i) => [i, v] as const))('verify #%i decrypts', (_i, v) => {
    const f = new Fernet(v.secret);
    expect(f.decrypt(v.token, { ttl: v.ttl_sec, now: seconds(v.now) }).toString('utf8')).toBe(v.src);
  });

  it.each(invalid.map((v) => [v.desc!, v] as const))('invalid: %s throws EnvelopeError', (_d, v) => {
    const f = new Fernet(v.secret);
    let caught: unknown;
    try {
      f.decrypt(v.token, { ttl: v.ttl_sec, now: seconds(v.now) });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(EnvelopeError);
    expect(['token', 'decrypt']).toContain((caught as EnvelopeError).reason);
  });
});

describe('Fernet', () => {
  it('round-trips strings and bytes with a generated key', () => {
    const key = generateKey();
    expect(key).toMatch(/^[A-Za-z0-9_-]{43}=$/);
    expect(isValidKey(key)).toBe(true);
    const f = new Fernet(key);
    expect(f.decrypt(f.encrypt('héllo ✓')).toString('utf8')).toBe('héllo ✓');
    const bytes = Buffer.from([0, 1, 2, 255]);
    expect(f.decrypt(Buffer.from(f.encrypt(bytes))).equals(bytes)).toBe(true);
    expect(f.decrypt(f.encrypt('')).length).toBe(0);
  });

  it('tokenLength gives the length of every token encryptToBuffer writes (the body-size check before encrypting)', () => {
    const f = new Fernet(generateKey());
    for (let n = 0; n <= 200; n++) expect(f.encryptToBuffer(Buffer.alloc(n, 0x61)).length, `plaintext of ${n} bytes`).toBe(tokenLength(n));
  });

  it('writes padded tokens and accepts unpadded ones', () => {
    const f = new Fernet(generateKey());
    const token = f.encrypt('x'.repeat(20));
    expect(token.length % 4).toBe(0);
    expect(f.decrypt(token.replace(/=+$/, '')).toString()).toBe('x'.repeat(20));
  });

  it('a token from another key fails with reason decrypt', () => {
    const token = new Fernet(generateKey()).encrypt('secret');
    expect(() => new Fernet(generateKey()).decrypt(token)).toThrow(
      expect.objectContaining({ code: 'ENVELOPE', reason: 'decrypt' }),
    );
  });

  it('rejects non-tokens with reason token', () => {
    const f = new Fernet(generateKey());
    for (const bad of ['', 'abc', '!!!!', 'gAAAA', Buffer.from([0xff, 0xfe]).toString('latin1')]) {
      expect(() => f.decrypt(bad)).toThrow(expect.objectContaining({ reason: 'token' }));
    }
    // standard (not url-safe) alphabet is not a token
    expect(() => f.decrypt(f.encrypt('abc').replace(/-/g, '+').replace(/_/g, '/') + '+')).toThrow(EnvelopeError);
  });

  it('checks TTL and clock skew only when a ttl is given', () => {
    const f = new Fernet(generateKey());
    const token = f.encrypt('t', { time: 1000 });
    expect(f.decrypt(token).toString()).toBe('t');
    expect(f.decrypt(token, { ttl: 10, now: 1005 }).toString()).toBe('t');
    expect(() => f.decrypt(token, { ttl: 10, now: 1011 })).toThrow(expect.objectContaining({ reason: 'token' }));
    expect(() => f.decrypt(token, { ttl: 10, now: 900 })).toThrow(expect.objectContaining({ reason: 'token' }));
    expect(Fernet.timestamp(token)).toBe(1000);
  });

  it('validates keys', () => {
    expect(isValidKey('u3Uc-qAi9iiCv3fkBfRUAKrM1gH8w51-nVU8M8A73Jg=')).toBe(true);
    expect(isValidKey('u3Uc-qAi9iiCv3fkBfRUAKrM1gH8w51-nVU8M8A73Jg')).toBe(true);
    for (const bad of ['', 'short', 'u3Uc+qAi9iiCv3fkBfRUAKrM1gH8w51+nVU8M8A73Jg=', 'u3Uc-qAi9iiCv3fkBfRUAKrM1gH8w51-nVU8M8A73J=', 'a'.repeat(64)]) {
      expect(isValidKey(bad), bad).toBe(false);
      expect(() => new Fernet(bad)).toThrow(new TypeError('not a 32-byte url-safe base64 Fernet key'));
    }
    // Python users pass the key as bytes of its base64 text
    const text = 'u3Uc-qAi9iiCv3fkBfRUAKrM1gH8w51-nVU8M8A73Jg=';
    const a = new Fernet(Buffer.from(text));
    const b = new Fernet(Buffer.from(text, 'base64url'));
    expect(b.decrypt(a.encrypt('same')).toString()).toBe('same');
    expect(normaliseKey(text.slice(0, -1))).toBe(text);
  });
});

// Cross-language check against the reference implementation (Python `cryptography`, Debian's
// python3-cryptography, which `make test` installs as root). As root a missing package fails;
// a non-root user without it gets the suite named as not run.
const python = '/usr/bin/python3';
const hasPythonFernet = spawnSync(python, ['-c', 'import cryptography.fernet'], { encoding: 'utf8' }).status === 0;
const skipPython = !hasPythonFernet && process.getuid?.() !== 0;

describe.skipIf(skipPython)(`Fernet interoperates with Python cryptography${skipPython ? ' (NEEDS python3-cryptography: not run; as root `make test` installs it)' : ''}`, () => {
  const run = (script: string, input: string) => {
    const r = spawnSync(python, ['-c', script], { input, encoding: 'utf8', timeout: 30_000 });
    if (r.error) throw r.error;
    if (r.status !== 0) throw new Error(`python failed: ${r.stderr}`);
    return r.stdout;
  };

  it('python3-cryptography is installed', () => {
    const r = spawnSync(python, ['-c', 'import cryptography.fernet'], { encoding: 'utf8' });
    expect(r.status, `${python} cannot import cryptography: apt-get install python3-cryptography\n${r.stderr ?? r.error}`).toBe(0);
  });

  it('a Python token decrypts in TypeScript and vice versa', () => {
    const key = generateKey();
    const f = new Fernet(key);
    const plain = 'héllo from the other side ✓ '.repeat(3);
    const fromPython = run(
      'import sys; from cryptography.fernet import Fernet; k, m = sys.stdin.read().split("\\n", 1); ' +
        'print(Fernet(k.encode()).encrypt(m.encode()).decode())',
      `${key}\n${plain}`,
    ).trim();
    expect(f.decrypt(fromPython, { ttl: 60 }).toString('utf8')).toBe(plain);

    const fromTs = f.encrypt(plain);
    const back = run(
      'import sys; from cryptography.fernet import Fernet; k, t = sys.stdin.read().split("\\n"); ' +
        'sys.stdout.buffer.write(Fernet(k.encode()).decrypt(t.encode(), ttl=60))',
      `${key}\n${fromTs}`,
    );
    expect(back).toBe(plain);
  });

  it('Python generate_key() keys are valid here, and Python rejects a TypeScript token under another key', () => {
    const pyKey = run('from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())', '').trim();
    expect(isValidKey(pyKey)).toBe(true);
    const token = new Fernet(generateKey()).encrypt('x');
    const out = run(
      'import sys; from cryptography.fernet import Fernet, InvalidToken\n' +
        'k, t = sys.stdin.read().split("\\n")\n' +
        'try:\n  Fernet(k.encode()).decrypt(t.encode()); print("accepted")\n' +
        'except InvalidToken:\n  print("rejected")',
      `${pyKey}\n${token}`,
    );
    expect(out.trim()).toBe('rejected');
  });
});
