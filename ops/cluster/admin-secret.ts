// The ops admin's secret (issue 26): a generated password, 0600 in the cluster dir, and the
// definitions file (hashed passwords) every mirosnet node loads at boot. opsAdmin (admin.ts)
// is how ops code uses it.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ClusterError } from './errors.ts';
import { CREDENTIALS } from './options.ts';
import { ADMIN_USER, renderDefinitions } from '../rabbit-config/users.ts';
import type { Credentials } from './types.ts';

/** `<cluster dir>/admin.json`: `{ "user": …, "password": … }`, mode 0600. */
export const ADMIN_FILE = 'admin.json';

export const adminFilePath = (dir: string): string => join(dir, ADMIN_FILE);

/** Writes `text` to a new or existing file that only this user can read (0600, also when it existed). */
export function writePrivateFile(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text, { mode: 0o600 });
  chmodSync(file, 0o600);
}

/** The admin's credentials of the cluster in `dir`, made (random password) on first use. */
export function ensureAdminCredentials(dir: string): Credentials {
  const file = adminFilePath(dir);
  if (!existsSync(file)) writePrivateFile(file, JSON.stringify({ user: ADMIN_USER, password: randomBytes(18).toString('base64url') }) + '\n');
  return readAdminCredentials(dir);
}

export function readAdminCredentials(dir: string): Credentials {
  const file = adminFilePath(dir);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    throw new ClusterError(
      missing ? `no broker admin credentials in ${dir} (${ADMIN_FILE})` : `cannot read ${file}: ${(err as Error).message}`,
      'start the cluster with this mirosnet: mirosnet cluster down, then mirosnet cluster up',
    );
  }
  const c = parsed as Partial<Credentials>;
  if (typeof c.user !== 'string' || typeof c.password !== 'string' || !c.user || !c.password) {
    throw new ClusterError(`${file} has no user and password`, `remove it and start the cluster again (mirosnet cluster down, up)`);
  }
  return { user: c.user, password: c.password };
}

/** The definitions file a node loads at every boot (vhost, app user, admin), 0600. */
export function definitionsText(dir: string): string {
  const admin = ensureAdminCredentials(dir);
  return renderDefinitions({ name: CREDENTIALS.user, password: CREDENTIALS.password }, { name: admin.user, password: admin.password });
}

export function writeDefinitions(dir: string, file: string): void {
  writePrivateFile(file, definitionsText(dir));
}
