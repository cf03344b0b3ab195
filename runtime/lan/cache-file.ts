// The cache of hosts found by earlier scans: {"addresses": [...], "updatedAt": ISO, "maxAgeMinutes": n}.
// Never holds credentials. Also reads the reference's `.miros_rabbitmq_lan_cache.json`
// ({"addresses", "amqp_urls", "time_out_in_minutes"}, age from the file's mtime); writing replaces
// it with our format, dropping its password-bearing amqp_urls.
import { closeSync, fsyncSync, openSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { dateAt, realEnvironment, type Environment } from '../env/environment.ts';
import path from 'node:path';
import { LanFileError } from './errors.ts';
import { isObject, readJsonFile } from './json-file.ts';

export const DEFAULT_CACHE_FILE = '.miros_rabbitmq_lan_cache.json';
export const DEFAULT_CACHE_MAX_AGE_MINUTES = 30;

export interface CacheRead {
  /** missing: no file; fresh: usable; expired: too old (or max age 0); invalid: unusable, see `problem`. */
  status: 'missing' | 'fresh' | 'expired' | 'invalid';
  /** Empty unless status is 'fresh' or 'expired'. */
  addresses: string[];
  updatedAt?: Date;
  maxAgeMinutes?: number;
  problem?: string;
}

/**
 * Reads the cache. Never throws for a bad file (a cache is only a hint): it reports `invalid`.
 * `maxAgeMinutes` overrides the age limit written in the file; a limit of 0 means always expired.
 */
export function readCacheFile(file: string, opts: { maxAgeMinutes?: number; now?: number; environment?: Environment } = {}): CacheRead {
  let data: unknown;
  try {
    data = readJsonFile(file, 'cache file');
  } catch (err) {
    return { status: 'invalid', addresses: [], problem: (err as Error).message };
  }
  if (data === undefined) return { status: 'missing', addresses: [] };
  const invalid = (problem: string): CacheRead => ({ status: 'invalid', addresses: [], problem: `${file}: ${problem}` });
  if (!isObject(data)) return invalid('cache file must be a JSON object');
  const { addresses } = data;
  if (!Array.isArray(addresses) || addresses.some((a) => typeof a !== 'string' || a === '')) {
    return invalid('"addresses" must be an array of non-empty strings');
  }
  let updatedAt: Date;
  if (data.updatedAt !== undefined) {
    updatedAt = dateAt(Date.parse(data.updatedAt as string));
    if (typeof data.updatedAt !== 'string' || Number.isNaN(updatedAt.getTime())) return invalid('"updatedAt" must be an ISO date');
  } else {
    try {
      updatedAt = statSync(file).mtime; // the reference's format: age from the file's mtime
    } catch (err) {
      return invalid((err as Error).message);
    }
  }
  const fileMax = data.maxAgeMinutes ?? data.time_out_in_minutes;
  if (fileMax !== undefined && (typeof fileMax !== 'number' || !(fileMax >= 0))) return invalid('"maxAgeMinutes" must be a number ≥ 0');
  const maxAgeMinutes = opts.maxAgeMinutes ?? (fileMax as number | undefined) ?? DEFAULT_CACHE_MAX_AGE_MINUTES;
  const age = (opts.now ?? (opts.environment ?? realEnvironment).now()) - updatedAt.getTime();
  // written in the future (clock change): do not trust it
  const expired = maxAgeMinutes === 0 || age > maxAgeMinutes * 60_000 || age < -60_000;
  return { status: expired ? 'expired' : 'fresh', addresses: addresses as string[], updatedAt, maxAgeMinutes };
}

/**
 * Writes the cache atomically: a temp file in the same directory, fsync, rename over `file`.
 * Only addresses are stored (no URLs, no credentials).
 */
export function writeCacheFile(
  file: string,
  addresses: string[],
  opts: { maxAgeMinutes?: number; now?: number; environment?: Environment } = {},
): void {
  for (const a of addresses) {
    if (typeof a !== 'string' || /[@/]/.test(a)) throw new LanFileError(file, `refusing to cache ${JSON.stringify(a)}: only bare addresses are cached`);
  }
  const env = opts.environment ?? realEnvironment;
  const content = {
    addresses,
    updatedAt: dateAt(opts.now ?? env.now()).toISOString(),
    maxAgeMinutes: opts.maxAgeMinutes ?? DEFAULT_CACHE_MAX_AGE_MINUTES,
  };
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${env.randomBytes(6).toString('hex')}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'wx', 0o644);
    writeSync(fd, JSON.stringify(content, null, 2) + '\n');
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, file);
  } catch (err) {
    if (fd !== undefined) closeSync(fd);
    rmSync(tmp, { force: true });
    throw new LanFileError(file, `cannot write cache file: ${(err as Error).message}`, { cause: err });
  }
}
