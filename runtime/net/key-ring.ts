// Key lists for rotation without downtime. A network's key list works like Python's
// `cryptography.fernet.MultiFernet`: the first key encrypts, every key decrypts (tried in
// order). A rotation is two steps across all running nodes, then an optional clean-up:
//   1. every node: [old, new]  (decrypts both, still encrypts with old)
//   2. every node: [new, old]  (encrypts with new; old tokens still in queues decrypt)
//   3. once the old tokens are gone: [new]
// No step ever makes a node send what another node cannot read, so nothing is lost.
// A KeyRing is the swappable list one network uses: `use()` replaces it atomically while
// the node runs (the next encrypt and the next decrypt see the new list).
import { realEnvironment, type Environment } from '../env/environment.ts';
import { createHash } from 'node:crypto';
import { EnvelopeError } from './errors.ts';
import { Fernet, normaliseKey, type TokenCipher } from './fernet.ts';

/** One key: url-safe base64 text (padded or not), or 32 raw bytes / the base64 text as bytes. */
export type KeyInput = string | Uint8Array;
/** One key, a list of keys, or one string of comma-separated keys (the `.env` form). */
export type KeyListInput = KeyInput | readonly KeyInput[];

/**
 * The keys of `value` in canonical padded form, first (encrypting) key first. A string is
 * split at commas (spaces around keys are ignored), so `MESH_ENCRYPTION_KEY=new,old` works.
 * `name` starts the error messages (an option or variable name).
 * @throws TypeError saying which position is malformed (never the key itself: it is a secret),
 *         or that the list is empty
 */
export function parseKeyList(value: KeyListInput, name = 'the key list'): string[] {
  const items: unknown[] =
    typeof value === 'string' ? value.split(',').map((k) => k.trim()) : value instanceof Uint8Array ? [value] : Array.isArray(value) ? [...value] : [value];
  if (items.length === 0 || (items.length === 1 && items[0] === '')) throw new TypeError(`${name} is empty: give at least one Fernet key`);
  return items.map((k, i) => {
    const key = typeof k === 'string' || k instanceof Uint8Array ? safeNormalise(k) : undefined;
    if (key !== undefined) return key;
    throw new TypeError(
      items.length === 1
        ? `${name} is not a 32-byte url-safe base64 Fernet key`
        : `${name}: key ${i + 1} of ${items.length} is not a 32-byte url-safe base64 Fernet key`,
    );
  });
}

function safeNormalise(key: KeyInput): string | undefined {
  try {
    return normaliseKey(key);
  } catch {
    return undefined;
  }
}

/** A short, non-secret name for a key (the first 8 hex digits of its SHA-256), for logs and stats. */
export function keyFingerprint(key: KeyInput): string {
  return createHash('sha256').update(normaliseKey(key)).digest('hex').slice(0, 8);
}

/** Python's MultiFernet: encrypts with the first key, decrypts with any. Immutable. */
export class MultiFernet implements TokenCipher {
  readonly #fernets: Fernet[];
  /** Canonical keys, in order. */
  readonly #keys: string[];

  /** @throws TypeError if the list is empty or a key is malformed */
  constructor(keys: KeyListInput, env: Environment = realEnvironment) {
    this.#keys = parseKeyList(keys);
    this.#fernets = this.#keys.map((k) => new Fernet(k, env));
  }

  get size(): number {
    return this.#fernets.length;
  }

  /** The keys' fingerprints (keyFingerprint), in order. */
  fingerprints(): string[] {
    return this.#keys.map(keyFingerprint);
  }

  /** Encrypts with the first key (see Fernet.encrypt). */
  encrypt(plain: Buffer | string, opts: { iv?: Buffer; time?: number } = {}): string {
    return this.#fernets[0].encrypt(plain, opts);
  }

  /** encrypt() as the token's ASCII bytes (see Fernet.encryptToBuffer). */
  encryptToBuffer(plain: Buffer | string, opts: { iv?: Buffer; time?: number } = {}): Buffer {
    return this.#fernets[0].encryptToBuffer(plain, opts);
  }

  /**
   * Decrypts with the first key whose signature matches.
   * @throws EnvelopeError 'token' (not a Fernet token or outside its TTL, whichever key) or
   *         'decrypt' (no key of the list signed it)
   */
  decrypt(token: string | Buffer, opts: { ttl?: number; now?: number } = {}): Buffer {
    return this.decryptWithIndex(token, opts).plain;
  }

  /** decrypt, and the position of the key that opened the token. */
  decryptWithIndex(token: string | Buffer, opts: { ttl?: number; now?: number } = {}): { plain: Buffer; index: number } {
    let mismatch: EnvelopeError | undefined;
    for (let index = 0; index < this.#fernets.length; index++) {
      try {
        return { plain: this.#fernets[index].decrypt(token, opts), index };
      } catch (err) {
        // only a signature mismatch means "try the next key": a malformed or expired token is that for every key
        if (!(err instanceof EnvelopeError) || err.reason !== 'decrypt') throw err;
        mismatch = err;
      }
    }
    if (this.#fernets.length === 1) throw mismatch!;
    throw new EnvelopeError('decrypt', `Fernet signature mismatch with each of the ${this.#fernets.length} keys (none of them made this token, or it is corrupted)`, { cause: mismatch });
  }

  /**
   * Re-encrypts a token under the first key, keeping its timestamp (Python's MultiFernet.rotate).
   * @throws EnvelopeError as decrypt
   */
  rotate(token: string | Buffer): string {
    const plain = this.decrypt(token);
    return this.encrypt(plain, { time: Fernet.timestamp(token) });
  }
}

/** How often each key of a ring opened a token since the ring got its current list. */
export interface KeyUsage {
  fingerprint: string;
  decrypted: number;
}

/** The current key list of one network; `use()` swaps it while the node runs. */
export class KeyRing implements TokenCipher {
  #current: MultiFernet;
  #decrypted: number[];
  readonly #env: Environment;

  /** @throws TypeError if the list is empty or a key is malformed */
  constructor(keys: KeyListInput, env: Environment = realEnvironment) {
    this.#env = env;
    this.#current = new MultiFernet(keys, env);
    this.#decrypted = new Array<number>(this.#current.size).fill(0);
  }

  /**
   * Replaces the list: the next token sent is encrypted with its first key, the next one
   * received is tried against all of them. Validates the whole list before changing anything.
   * @throws TypeError if the list is empty or a key is malformed (the ring keeps its old list)
   */
  use(keys: KeyListInput): void {
    const next = new MultiFernet(keys, this.#env);
    this.#current = next;
    this.#decrypted = new Array<number>(next.size).fill(0);
  }

  /** Fingerprints of the current keys with their decryption counts, encrypting key first. */
  usage(): KeyUsage[] {
    return this.#current.fingerprints().map((fingerprint, i) => ({ fingerprint, decrypted: this.#decrypted[i] }));
  }

  encrypt(plain: Buffer | string, opts: { iv?: Buffer; time?: number } = {}): string {
    return this.#current.encrypt(plain, opts);
  }

  encryptToBuffer(plain: Buffer | string, opts: { iv?: Buffer; time?: number } = {}): Buffer {
    return this.#current.encryptToBuffer(plain, opts);
  }

  decrypt(token: string | Buffer, opts: { ttl?: number; now?: number } = {}): Buffer {
    const { plain, index } = this.#current.decryptWithIndex(token, opts);
    this.#decrypted[index]++;
    return plain;
  }
}
