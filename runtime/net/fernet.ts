// Fernet (https://github.com/fernet/spec) on node:crypto: AES-128-CBC + HMAC-SHA256.
// token = base64url(0x80 ‖ timestamp (8 B, big-endian seconds) ‖ IV (16) ‖ ciphertext ‖ HMAC (32)),
// key = base64url(signing key (16) ‖ encryption key (16)). Tokens are written padded, as Python's
// `cryptography` writes them; padded and unpadded url-safe base64 are both accepted on input.
import { createCipheriv, createDecipheriv, createHmac, timingSafeEqual, type Decipher } from 'node:crypto';
import { realEnvironment, type Environment } from '../env/environment.ts';
import { EnvelopeError } from './errors.ts';

const VERSION = 0x80;
const HEADER = 1 + 8 + 16; // version, timestamp, IV
const HMAC_LEN = 32;
const BLOCK = 16;
const MIN_TOKEN = HEADER + BLOCK + HMAC_LEN;
/** Seconds a token's timestamp may lie in the future when a TTL is checked (as Python's cryptography). */
export const MAX_CLOCK_SKEW = 60;

const KEY_MESSAGE = 'not a 32-byte url-safe base64 Fernet key';
// url-safe alphabet, optional `=` padding to a multiple of 4
const B64URL = /^[A-Za-z0-9_-]*={0,2}$/;

/** Strict url-safe base64 decode; undefined if `s` is not valid (Buffer.from alone ignores bad characters). */
function decodeB64url(s: string): Buffer | undefined {
  if (!B64URL.test(s)) return undefined;
  const pad = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0; // B64URL allows '=' only at the end, at most two
  if (pad > 0 && s.length % 4 !== 0) return undefined;
  if ((s.length - pad) % 4 === 1) return undefined;
  return Buffer.from(s, 'base64url');
}

function encodeB64urlPadded(b: Buffer): string {
  const s = b.toString('base64url');
  return s + '='.repeat((4 - (s.length % 4)) % 4);
}

function keyBytes(key: string | Uint8Array): Buffer | undefined {
  if (typeof key !== 'string') {
    // 32 raw bytes, or the key's base64 text as bytes (Python users pass b'...=')
    if (key.length === 32) return Buffer.from(key);
    key = Buffer.from(key).toString('latin1');
  }
  const b = decodeB64url(key.trim());
  return b && b.length === 32 ? b : undefined;
}

/**
 * IVs come from a pool of CSPRNG bytes refilled 256 IVs at a time: the same random bytes as
 * one random 16-byte draw per token, without one call into the generator per message.
 * One pool per environment (its randomness).
 */
class IvPool {
  readonly #bytes = Buffer.alloc(16 * 256);
  #at = this.#bytes.length;
  constructor(private readonly env: Environment) {}
  next(): Buffer {
    if (this.#at === this.#bytes.length) {
      this.env.randomFill(this.#bytes);
      this.#at = 0;
    }
    this.#at += 16;
    return this.#bytes.subarray(this.#at - 16, this.#at);
  }
}
const ivPools = new WeakMap<Environment, IvPool>();
function ivPoolOf(env: Environment): IvPool {
  let pool = ivPools.get(env);
  if (!pool) ivPools.set(env, (pool = new IvPool(env)));
  return pool;
}

/** Bytes of the token (padded url-safe base64, as encryptToBuffer writes it) for `plainBytes` bytes of plaintext. */
export function tokenLength(plainBytes: number): number {
  const raw = HEADER + (Math.floor(plainBytes / BLOCK) + 1) * BLOCK + HMAC_LEN;
  return Math.ceil(raw / 3) * 4;
}

/** A new random key, 44 characters of padded url-safe base64 (the format of Python's `Fernet.generate_key()`). */
export function generateKey(env: Environment = realEnvironment): string {
  return encodeB64urlPadded(env.randomBytes(32));
}

/** True if `key` is 32 bytes in url-safe base64 (padding optional). */
export function isValidKey(key: string): boolean {
  return typeof key === 'string' && keyBytes(key) !== undefined;
}

/** `key` in the canonical padded form; throws TypeError if it is not a valid key. */
export function normaliseKey(key: string | Uint8Array): string {
  const b = keyBytes(key);
  if (!b) throw new TypeError(KEY_MESSAGE);
  return encodeB64urlPadded(b);
}

/** What the envelope needs of a cipher: a Fernet, or a key list (key-ring.ts) that rotates. */
export interface TokenCipher {
  encrypt(plain: Buffer | string): string;
  /** encrypt() as the token's ASCII bytes (a message body). */
  encryptToBuffer(plain: Buffer | string): Buffer;
  decrypt(token: string | Buffer): Buffer;
}

export class Fernet implements TokenCipher {
  readonly #signingKey: Buffer;
  readonly #encryptionKey: Buffer;
  readonly #env: Environment;
  readonly #ivs: IvPool;
  /**
   * AES-128 in ECB without padding, made once: CBC decryption is each block's ECB decryption
   * XORed with the block before it (or the IV), so one call decrypts a token's blocks and a
   * loop chains them, where createDecipheriv per token paid for a new context. Only whole
   * blocks go in, so nothing stays buffered between tokens.
   */
  #blocks: Decipher | undefined;

  /** @throws TypeError "not a 32-byte url-safe base64 Fernet key" */
  constructor(key: string | Buffer, env: Environment = realEnvironment) {
    this.#env = env;
    this.#ivs = ivPoolOf(env);
    const b = keyBytes(key);
    if (!b) throw new TypeError(KEY_MESSAGE);
    this.#signingKey = b.subarray(0, 16);
    this.#encryptionKey = b.subarray(16, 32);
  }

  /**
   * Encrypts and signs `plain` (a string is taken as UTF-8).
   * `opts.iv` and `opts.time` (seconds since the epoch) exist for test vectors; leave them out otherwise.
   */
  encrypt(plain: Buffer | string, opts: { iv?: Buffer; time?: number } = {}): string {
    return this.encryptToBuffer(plain, opts).toString('latin1');
  }

  /** encrypt(), as the token's ASCII bytes (what a message body carries): one buffer, no string in between. */
  encryptToBuffer(plain: Buffer | string, opts: { iv?: Buffer; time?: number } = {}): Buffer {
    const iv = opts.iv ?? this.#ivs.next();
    if (iv.length !== 16) throw new TypeError('Fernet IV must be 16 bytes');
    const time = Math.floor(opts.time ?? this.#env.now() / 1000);
    const data = typeof plain === 'string' ? Buffer.from(plain, 'utf8') : plain;
    // version ‖ timestamp ‖ IV ‖ ciphertext (PKCS#7: always 1..16 bytes of padding) ‖ HMAC, in one buffer
    const cipherLength = (Math.floor(data.length / BLOCK) + 1) * BLOCK;
    const raw = Buffer.allocUnsafe(HEADER + cipherLength + HMAC_LEN);
    raw[0] = VERSION;
    raw.writeUInt32BE(Math.floor(time / 2 ** 32), 1);
    raw.writeUInt32BE(time >>> 0, 5);
    iv.copy(raw, 9);
    const cipher = createCipheriv('aes-128-cbc', this.#encryptionKey, iv);
    const head = cipher.update(data);
    head.copy(raw, HEADER);
    cipher.final().copy(raw, HEADER + head.length);
    createHmac('sha256', this.#signingKey).update(raw.subarray(0, HEADER + cipherLength)).digest().copy(raw, HEADER + cipherLength);
    // padded url-safe base64, written straight into the body
    const unpadded = raw.toString('base64url');
    const padded = Buffer.allocUnsafe(Math.ceil(unpadded.length / 4) * 4);
    padded.write(unpadded, 0, 'latin1');
    padded.fill(0x3d, unpadded.length); // '='
    return padded;
  }

  /**
   * Verifies and decrypts a token. With `opts.ttl` (seconds), also rejects tokens older than `ttl`
   * or more than MAX_CLOCK_SKEW seconds in the future, measured from `opts.now` (seconds; default now).
   * @throws EnvelopeError reason 'token' (not a Fernet token, or outside its TTL) or
   *         'decrypt' (signature mismatch — e.g. another key — or bad padding)
   */
  decrypt(token: string | Buffer, opts: { ttl?: number; now?: number } = {}): Buffer {
    const text = typeof token === 'string' ? token : token.toString('latin1');
    const raw = decodeB64url(text);
    if (!raw) throw new EnvelopeError('token', 'not a Fernet token: invalid url-safe base64');
    if (raw.length < MIN_TOKEN) throw new EnvelopeError('token', `not a Fernet token: ${raw.length} bytes is too short`);
    if (raw[0] !== VERSION) throw new EnvelopeError('token', `not a Fernet token: version byte 0x${raw[0].toString(16)}`);
    const body = raw.subarray(0, raw.length - HMAC_LEN);
    if ((body.length - HEADER) % BLOCK !== 0) {
      throw new EnvelopeError('token', 'not a Fernet token: ciphertext is not a multiple of the block size');
    }
    const expected = createHmac('sha256', this.#signingKey).update(body).digest();
    if (!timingSafeEqual(expected, raw.subarray(raw.length - HMAC_LEN))) {
      throw new EnvelopeError('decrypt', 'Fernet signature mismatch (wrong key or corrupted token)');
    }
    if (opts.ttl !== undefined) {
      const ts = Number(raw.readBigUInt64BE(1));
      const now = opts.now ?? this.#env.now() / 1000;
      if (ts + opts.ttl < now) throw new EnvelopeError('token', `Fernet token expired (older than ${opts.ttl} s)`);
      if (ts > now + MAX_CLOCK_SKEW) throw new EnvelopeError('token', 'Fernet token timestamp is too far in the future');
    }
    const cipherText = body.subarray(HEADER);
    if (this.#blocks === undefined) {
      this.#blocks = createDecipheriv('aes-128-ecb', this.#encryptionKey, null);
      this.#blocks.setAutoPadding(false);
    }
    const plain = this.#blocks.update(cipherText);
    if (plain.length !== cipherText.length) throw new EnvelopeError('decrypt', 'Fernet decryption failed'); // never: whole blocks in, whole blocks out
    // CBC: each block XOR the ciphertext block before it; the first, XOR the IV (bytes 9..24 of the token)
    for (let i = plain.length - 1; i >= BLOCK; i--) plain[i] ^= cipherText[i - BLOCK];
    for (let i = 0; i < BLOCK; i++) plain[i] ^= body[9 + i];
    // PKCS#7, as decipher.final() checks it: 1..16 bytes, each the count
    const pad = plain[plain.length - 1];
    let bad = pad < 1 || pad > BLOCK ? 1 : 0;
    for (let i = plain.length - Math.min(Math.max(pad, 1), BLOCK); i < plain.length; i++) bad |= plain[i] ^ pad;
    if (bad !== 0) throw new EnvelopeError('decrypt', 'Fernet decryption failed (bad padding)');
    return plain.subarray(0, plain.length - pad);
  }

  /** The timestamp (seconds since the epoch) written in a token, without verifying it. */
  static timestamp(token: string | Buffer): number {
    const raw = decodeB64url(typeof token === 'string' ? token : token.toString('latin1'));
    if (!raw || raw.length < 9) throw new EnvelopeError('token', 'not a Fernet token');
    return Number(raw.readBigUInt64BE(1));
  }
}
