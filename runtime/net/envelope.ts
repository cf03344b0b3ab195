// The wire envelope: versioned JSON inside a Fernet token. Never pickle, never eval.
// Mesh events carry the event's signal name and JSON payload; the snoop networks reuse the
// same envelope with signal SNOOP_SPY / SNOOP_TRACE and the line text as payload.
import { EnvelopeError, PayloadError } from './errors.ts';
import { tokenLength, type TokenCipher } from './fernet.ts';

export const ENVELOPE_VERSION = 1;
/** Largest body (the Fernet token's bytes) that is sent or accepted. */
export const MAX_BODY_BYTES = 1024 * 1024;
export const SNOOP_SPY_SIGNAL = 'SNOOP_SPY';
export const SNOOP_TRACE_SIGNAL = 'SNOOP_TRACE';

export interface Envelope {
  v: 1;
  /** Name of the sending chart. */
  sender: string;
  /** Address of the sending host (its `lan.this.address`). */
  host: string;
  /** Per-sender sequence number. */
  seq: number;
  /** Milliseconds since the epoch, at the sender. */
  ts: number;
  signal: string;
  payload: unknown;
  /**
   * Optional (added within version 1): the sender chart's Lamport clock when it sent this.
   * A node that predates it ignores it; a message without it comes from such a node.
   */
  lc?: number;
  /** Optional (added within version 1): the sender's incarnation, its seq base for this start (seq − inc counts from 1). */
  inc?: number;
  /**
   * Optional (added within version 1): the sender's incarnation id, random for each start of
   * the process (INCARNATION_ID: 16 to 64 lowercase hex digits, never the clock). Receivers
   * keep a dedup window per (sender, iid), so a restart whose clock stepped back is heard.
   * Older nodes ignore it (their decoder skips unknown fields).
   */
  iid?: string;
  /**
   * Optional (added within version 1): the network (mesh, trace, spy) and the routing key the
   * sender published it with. Inside the token, so a holder of only the broker credentials
   * cannot send it elsewhere (destination.ts). Absent from senders that predate the binding.
   */
  net?: string;
  rk?: string;
}

/** What an incarnation id looks like (64 random bits and more, in lowercase hex). */
export const INCARNATION_ID = /^[0-9a-f]{16,64}$/;

const describe = (v: unknown): string => {
  if (typeof v === 'number') return String(v);
  if (typeof v === 'bigint') return `bigint ${v}n`;
  if (typeof v === 'function') return `a function${v.name ? ` (${v.name})` : ''}`;
  if (typeof v === 'symbol') return `a symbol (${v.description ?? ''})`;
  return typeof v;
};
const childPath = (path: string, key: string | number) =>
  typeof key === 'number' ? `${path}[${key}]` : /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;

/**
 * Throws PayloadError unless `value` survives JSON.stringify → JSON.parse without silent loss:
 * rejects functions, symbols, bigints, NaN/±Infinity, cycles, Maps and Sets (which would become `{}`),
 * and symbol keys. `undefined` at the top is fine (sent as null); nested `undefined` properties are
 * dropped as JSON does, in arrays they become null. Objects with toJSON (Date, Buffer) are checked
 * on what toJSON returns. `what` names the value in the message (e.g. "payload").
 */
export function assertJsonSerialisable(value: unknown, what = 'value'): void {
  const seen = new Set<object>();
  const walk = (v: unknown, path: string): void => {
    switch (typeof v) {
      case 'string':
      case 'boolean':
        return;
      case 'undefined':
        return; // top: null; property: dropped; array element: null
      case 'number':
        if (!Number.isFinite(v)) throw new PayloadError(path, `${path} is ${v}: JSON cannot represent it`);
        return;
      case 'function':
      case 'symbol':
      case 'bigint':
        throw new PayloadError(path, `${path} is ${describe(v)}: not JSON-serialisable`);
    }
    if (v === null) return;
    const obj = v as object;
    if (typeof (obj as { toJSON?: unknown }).toJSON === 'function') {
      let json: unknown;
      try {
        json = (obj as { toJSON(k: string): unknown }).toJSON('');
      } catch (err) {
        throw new PayloadError(path, `${path}.toJSON() threw: ${(err as Error)?.message ?? err}`, { cause: err });
      }
      walk(json, path);
      return;
    }
    if (seen.has(obj)) throw new PayloadError(path, `${path} is a circular reference: not JSON-serialisable`);
    if (obj instanceof Map || obj instanceof Set || obj instanceof WeakMap || obj instanceof WeakSet) {
      throw new PayloadError(path, `${path} is a ${obj.constructor.name}: JSON would turn it into {} (use an array or a plain object)`);
    }
    if (obj instanceof Promise) throw new PayloadError(path, `${path} is a Promise: not JSON-serialisable`);
    seen.add(obj);
    if (Array.isArray(obj)) {
      for (let i = 0; i < obj.length; i++) walk(obj[i], childPath(path, i));
    } else {
      if (Object.getOwnPropertySymbols(obj).some((s) => Object.prototype.propertyIsEnumerable.call(obj, s))) {
        throw new PayloadError(path, `${path} has a symbol key: JSON would drop it`);
      }
      for (const key of Object.keys(obj)) walk((obj as Record<string, unknown>)[key], childPath(path, key));
    }
    seen.delete(obj); // a shared (non-circular) reference is fine
  };
  walk(value, what);
}

/**
 * True when `v` is plainly JSON: strings, booleans, finite numbers, null, undefined, and arrays
 * and plain objects of them (no toJSON, no symbol keys, at most 32 levels deep). The common
 * payload passes here without the full walk's bookkeeping; anything else (a Date, a class
 * instance, a cycle, a bad value) is left to assertJsonSerialisable, which explains what is wrong.
 */
function plainJson(v: unknown, depth: number): boolean {
  switch (typeof v) {
    case 'string':
    case 'boolean':
    case 'undefined':
      return true;
    case 'number':
      return Number.isFinite(v);
    case 'object':
      break;
    default:
      return false;
  }
  if (v === null) return true;
  if (depth > 32) return false;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (!plainJson(v[i], depth + 1)) return false;
    return true;
  }
  const proto = Object.getPrototypeOf(v) as unknown;
  if (proto !== Object.prototype && proto !== null) return false;
  const o = v as Record<string, unknown>;
  if (Object.getOwnPropertySymbols(o).length > 0) return false;
  for (const key of Object.keys(o)) {
    if (key === 'toJSON' || !plainJson(o[key], depth + 1)) return false;
  }
  return true;
}

function checkHeader(env: Omit<Envelope, 'v'>): void {
  const bad = (field: string, want: string) => {
    throw new TypeError(`envelope ${field} must be ${want}, got ${describe((env as unknown as Record<string, unknown>)[field])}`);
  };
  if (typeof env.sender !== 'string') bad('sender', 'a string');
  if (typeof env.host !== 'string') bad('host', 'a string');
  if (!Number.isSafeInteger(env.seq) || env.seq < 0) bad('seq', 'a non-negative integer');
  if (!Number.isFinite(env.ts)) bad('ts', 'a finite number (ms since the epoch)');
  if (typeof env.signal !== 'string' || env.signal === '') bad('signal', 'a non-empty string');
  if (env.lc !== undefined && (!Number.isSafeInteger(env.lc) || env.lc < 0)) bad('lc', 'a non-negative integer or absent');
  if (env.inc !== undefined && (!Number.isSafeInteger(env.inc) || env.inc < 0)) bad('inc', 'a non-negative integer or absent');
  if (env.iid !== undefined && (typeof env.iid !== 'string' || !INCARNATION_ID.test(env.iid))) bad('iid', '16 to 64 lowercase hex digits or absent');
  if (env.net !== undefined && typeof env.net !== 'string') bad('net', 'a string or absent');
  if (env.rk !== undefined && typeof env.rk !== 'string') bad('rk', 'a string or absent');
}

/**
 * The envelope's plaintext (its JSON), checked: what encodeEnvelope encrypts, kept by a
 * SealedEnvelope (sealed-envelope.ts) to stamp and encrypt again when it is published late.
 * @throws PayloadError if the payload is not JSON-serialisable
 * @throws TypeError if a header field has the wrong type
 */
export function envelopePlaintext(env: Omit<Envelope, 'v'>): string {
  checkHeader(env);
  if (!plainJson(env.payload, 0)) assertJsonSerialisable(env.payload, 'payload');
  const wire: Envelope = {
    v: ENVELOPE_VERSION,
    sender: env.sender,
    host: env.host,
    seq: env.seq,
    ts: env.ts,
    signal: env.signal,
    payload: env.payload === undefined ? null : env.payload,
    ...(env.lc !== undefined ? { lc: env.lc } : {}),
    ...(env.inc !== undefined ? { inc: env.inc } : {}),
    ...(env.iid !== undefined ? { iid: env.iid } : {}),
    ...(env.net !== undefined ? { net: env.net } : {}),
    ...(env.rk !== undefined ? { rk: env.rk } : {}),
  };
  return JSON.stringify(wire);
}

/**
 * Encrypts an envelope's plaintext into a message body (the Fernet token's ASCII bytes).
 * @throws PayloadError if the body would exceed MAX_BODY_BYTES
 */
export function encryptPlaintext(fernet: TokenCipher, plaintext: string): Buffer {
  checkBodyLength(plaintext);
  return fernet.encryptToBuffer(plaintext);
}

/**
 * Throws if the body of `plaintext` would exceed MAX_BODY_BYTES: a token's length follows
 * from the plaintext's (fernet.ts tokenLength), so this needs no encryption.
 * @throws PayloadError
 */
export function checkBodyLength(plaintext: string): void {
  const length = tokenLength(Buffer.byteLength(plaintext, 'utf8'));
  if (length > MAX_BODY_BYTES) {
    throw new PayloadError('payload', `payload too large: the encrypted envelope is ${length} bytes, over MAX_BODY_BYTES (${MAX_BODY_BYTES})`);
  }
}

/**
 * Serialises and encrypts an envelope into a message body (the Fernet token's ASCII bytes).
 * @throws PayloadError if the payload is not JSON-serialisable, or the body would exceed MAX_BODY_BYTES
 * @throws TypeError if a header field has the wrong type
 */
export function encodeEnvelope(fernet: TokenCipher, env: Omit<Envelope, 'v'>): Buffer {
  return encryptPlaintext(fernet, envelopePlaintext(env));
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decrypts and validates a message body.
 * @throws EnvelopeError with reason 'oversize' (body over maxBytes), 'token' (not a Fernet token),
 *         'decrypt' (wrong key, corrupted), 'json' (plaintext not UTF-8 JSON), 'version' (v is not 1),
 *         'schema' (not an object, or a field missing or of the wrong type); unknown fields are ignored
 */
export function decodeEnvelope(fernet: TokenCipher, body: Buffer, opts: { maxBytes?: number } = {}): Envelope {
  const maxBytes = opts.maxBytes ?? MAX_BODY_BYTES;
  if (body.length > maxBytes) throw new EnvelopeError('oversize', `body is ${body.length} bytes, over the limit of ${maxBytes}`);
  const plain = fernet.decrypt(body);
  let parsed: unknown;
  try {
    parsed = JSON.parse(utf8.decode(plain));
  } catch (err) {
    throw new EnvelopeError('json', 'plaintext is not UTF-8 JSON', { cause: err });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new EnvelopeError('schema', `envelope must be a JSON object, got ${Array.isArray(parsed) ? 'an array' : parsed === null ? 'null' : typeof parsed}`);
  }
  const o = parsed as Record<string, unknown>;
  if (o.v !== ENVELOPE_VERSION) {
    throw new EnvelopeError('version', `unknown envelope version ${JSON.stringify(o.v) ?? 'undefined'} (this node speaks ${ENVELOPE_VERSION})`);
  }
  const schema = (msg: string): never => {
    throw new EnvelopeError('schema', `envelope ${msg}`);
  };
  if (typeof o.sender !== 'string') schema('sender must be a string');
  if (typeof o.host !== 'string') schema('host must be a string');
  if (typeof o.seq !== 'number' || !Number.isSafeInteger(o.seq) || o.seq < 0) schema('seq must be a non-negative integer');
  if (typeof o.ts !== 'number' || !Number.isFinite(o.ts)) schema('ts must be a number');
  if (typeof o.signal !== 'string' || o.signal === '') schema('signal must be a non-empty string');
  if (!Object.prototype.hasOwnProperty.call(o, 'payload')) schema('payload is missing');
  const optionalCount = (field: 'lc' | 'inc'): number | undefined => {
    const value = o[field];
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) schema(`${field} must be a non-negative integer when present`);
    return value as number;
  };
  for (const field of ['net', 'rk'] as const) {
    if (o[field] !== undefined && typeof o[field] !== 'string') schema(`${field} must be a string when present`);
  }
  const lc = optionalCount('lc');
  const inc = optionalCount('inc');
  const iid = o.iid;
  if (iid !== undefined && (typeof iid !== 'string' || !INCARNATION_ID.test(iid))) schema('iid must be 16 to 64 lowercase hex digits when present');
  const envelope: Envelope = {
    v: ENVELOPE_VERSION,
    sender: o.sender as string,
    host: o.host as string,
    seq: o.seq as number,
    ts: o.ts as number,
    signal: o.signal as string,
    payload: o.payload,
  };
  if (lc !== undefined) envelope.lc = lc;
  if (inc !== undefined) envelope.inc = inc;
  if (iid !== undefined) envelope.iid = iid as string;
  if (o.net !== undefined) envelope.net = o.net as string;
  if (o.rk !== undefined) envelope.rk = o.rk as string;
  return envelope;
}
