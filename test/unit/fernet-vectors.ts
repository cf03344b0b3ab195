// Fernet's official test vectors (test/fixtures/fernet, copied from the spec's repository),
// shared by the Fernet and key-ring tests. Missing vectors fail the run, never skip it: the
// vectors are the acceptance test.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const vectorDir = path.join(repoRoot, 'test', 'fixtures', 'fernet');

export interface Vector {
  token: string;
  now: string;
  secret: string;
  iv?: number[];
  src?: string;
  ttl_sec?: number;
  desc?: string;
}

export function loadVectors(name: string): Vector[] {
  const file = path.join(vectorDir, name);
  if (!existsSync(file)) throw new Error(`Fernet test vectors missing: ${file}`);
  return JSON.parse(readFileSync(file, 'utf8')) as Vector[];
}

/** An RFC 3339 time as seconds since the epoch. */
export const seconds = (rfc3339: string): number => Date.parse(rfc3339) / 1000;
