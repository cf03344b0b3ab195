// The broker's users, least privilege (issue 26): the app user (peter on the testbed) may log
// in to the management UI (tag `management`) and use the names the runtime declares, nothing
// else; a separate administrator serves the ops code (status, membership, faults).
import { createHash, randomBytes } from 'node:crypto';

/**
 * What the app user may configure, write and read in its vhost: the runtime's exchanges and
 * queues (`miros.…`: runtime/net/topology.ts) and server-named queues (`amq.gen-…`: snoop
 * observers and probes declare `''`).
 */
export const APP_PERMISSIONS = '^(miros\\.|amq\\.gen-)';
export const APP_TAGS = ['management'];
/** The ops code's user on the testbeds (its password: generated, ops/cluster/admin.ts). */
export const ADMIN_USER = 'miros-admin';
/** 1 MiB: larger publishes are refused (docs/broker-security.md). RabbitMQ 3.10 allows 128 MiB. */
export const DEFAULT_MAX_MESSAGE_SIZE = 1024 * 1024;

export interface BrokerUser {
  name: string;
  password: string;
}

/**
 * RabbitMQ's rabbit_password_hashing_sha256: base64(salt ++ sha256(salt ++ password)), with a
 * 4-byte random salt; the definitions file then holds no password in the clear.
 */
export function passwordHash(password: string, salt: Buffer = randomBytes(4)): string {
  const digest = createHash('sha256').update(Buffer.concat([salt, Buffer.from(password, 'utf8')])).digest();
  return Buffer.concat([salt, digest]).toString('base64');
}

/** A definitions file (JSON) with the vhost `/`, the app user and the admin, and their permissions. */
export function renderDefinitions(app: BrokerUser, admin: BrokerUser): string {
  const user = (u: BrokerUser, tags: string[]) => ({ name: u.name, password_hash: passwordHash(u.password), hashing_algorithm: 'rabbit_password_hashing_sha256', tags: tags.join(',') });
  const perm = (u: BrokerUser, p: string) => ({ user: u.name, vhost: '/', configure: p, write: p, read: p });
  return (
    JSON.stringify(
      {
        users: [user(app, APP_TAGS), user(admin, ['administrator'])],
        vhosts: [{ name: '/' }],
        permissions: [perm(app, APP_PERMISSIONS), perm(admin, '.*')],
      },
      null,
      2,
    ) + '\n'
  );
}

/** Where a mirosnet node's definitions file is: in its node directory. */
export const definitionsFileOf = (nodeDir: string): string => `${nodeDir}/definitions.json`;
