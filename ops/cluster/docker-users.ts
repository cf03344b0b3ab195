// The docker backend's users and message size limit (issue 26): the image's rabbitmq.conf
// seeds only the app user (compose); a testbed container also loads the definitions file with
// the app user and the ops admin (hashed passwords), and the cluster's max_message_size,
// through its environment like the TLS files (docker-tls.ts).
import { definitionsText } from './admin-secret.ts';
import type { ResolvedOptions } from './types.ts';

/** Inside the image, writable by the rabbitmq user. */
const DEFINITIONS = '/var/lib/rabbitmq/definitions.json';

export function renderDockerUsersConf(o: Pick<ResolvedOptions, 'maxMessageSize'>): string {
  return [
    '# users, vhost and permissions at every boot (the app user and the ops admin)',
    `load_definitions = ${DEFINITIONS}`,
    '# a larger publish closes the channel with 406 PRECONDITION_FAILED (docs/broker-security.md)',
    `max_message_size = ${o.maxMessageSize}`,
  ].join('\n') + '\n';
}

/** Shell steps and environment that put the definitions file and its conf.d file in place. */
export function usersBoot(o: Pick<ResolvedOptions, 'dir' | 'maxMessageSize'>, confD: string): { setup: string[]; env: string[] } {
  return {
    setup: [
      `umask 077; mkdir -p ${confD}; printf %s "$MIROSNET_DEFINITIONS" > ${DEFINITIONS}; printf %s "$MIROSNET_USERS_CONF" > ${confD}/10-users.conf`,
      'unset MIROSNET_DEFINITIONS MIROSNET_USERS_CONF',
    ],
    env: [`MIROSNET_DEFINITIONS=${definitionsText(o.dir)}`, `MIROSNET_USERS_CONF=${renderDockerUsersConf(o)}`],
  };
}
