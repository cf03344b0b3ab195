import { readFileSync } from 'node:fs';
import { LanFileError } from './errors.ts';

/** Reads a JSON file; undefined if it does not exist; LanFileError if unreadable or not JSON. */
export function readJsonFile(file: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new LanFileError(file, `cannot read ${what}: ${(err as Error).message}`, { cause: err });
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new LanFileError(file, `${what} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
}

export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
