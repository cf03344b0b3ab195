// TLS for the docker backend's nodes (`cluster up --backend docker --tls on|only`): the node's
// certificates (mirosnet tls init, in the cluster dir) and a conf.d file with the TLS listener
// reach the container through its environment, and its start-up command writes them where
// the rabbitmq user can read them (a bind mount would keep the host's owner and mode 0600).
import { readFileSync } from 'node:fs';
import { AMQPS_PORT, MANAGEMENT_TLS_PORT, brokerTls, type BrokerTls } from './options.ts';
import type { ResolvedOptions } from './types.ts';

/** Inside the image, writable by the rabbitmq user. */
const TLS_DIR = '/var/lib/rabbitmq/tls';

/** The conf.d file (sysctl format, read after rabbitmq.conf: what it sets wins), as ansible's tls.conf.j2. */
export function renderDockerTlsConf(t: Pick<BrokerTls, 'mode' | 'mutual'>): string {
  const lines = [
    `listeners.ssl.default = ${AMQPS_PORT}`,
    `ssl_options.cacertfile = ${TLS_DIR}/ca.pem`,
    `ssl_options.certfile = ${TLS_DIR}/server.pem`,
    `ssl_options.keyfile = ${TLS_DIR}/server.key`,
    `ssl_options.verify = ${t.mutual ? 'verify_peer' : 'verify_none'}`,
    `ssl_options.fail_if_no_peer_cert = ${t.mutual}`,
  ];
  // mutual TLS: a plain port would let a client without a certificate in with the password
  if (t.mutual && t.mode !== 'only') lines.push('# mutual TLS: no plain AMQP', 'listeners.tcp = none');
  if (t.mode === 'only') {
    lines.push(
      '# no plain AMQP; the management API on HTTPS, plain HTTP inside the container only',
      'listeners.tcp = none',
      'management.tcp.ip = 127.0.0.1',
      `management.ssl.port = ${MANAGEMENT_TLS_PORT}`,
      `management.ssl.cacertfile = ${TLS_DIR}/ca.pem`,
      `management.ssl.certfile = ${TLS_DIR}/server.pem`,
      `management.ssl.keyfile = ${TLS_DIR}/server.key`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Shell steps and environment that put a node's TLS files and conf.d file in place, or undefined when TLS is off. */
export function tlsBoot(o: Pick<ResolvedOptions, 'tls' | 'tlsDir' | 'tlsMutual'>, host: string, confD: string): { setup: string[]; env: string[] } | undefined {
  const t = brokerTls(o, host);
  if (!t) return undefined;
  return {
    setup: [
      `umask 077; mkdir -p ${TLS_DIR} ${confD}`,
      `printf %s "$MIROSNET_TLS_CA" > ${TLS_DIR}/ca.pem; printf %s "$MIROSNET_TLS_CERT" > ${TLS_DIR}/server.pem; printf %s "$MIROSNET_TLS_KEY" > ${TLS_DIR}/server.key`,
      `printf %s "$MIROSNET_TLS_CONF" > ${confD}/30-tls.conf`,
      'unset MIROSNET_TLS_CA MIROSNET_TLS_CERT MIROSNET_TLS_KEY MIROSNET_TLS_CONF',
    ],
    env: [
      `MIROSNET_TLS_CA=${readFileSync(t.caFile, 'utf8')}`,
      `MIROSNET_TLS_CERT=${readFileSync(t.certFile, 'utf8')}`,
      `MIROSNET_TLS_KEY=${readFileSync(t.keyFile, 'utf8')}`,
      `MIROSNET_TLS_CONF=${renderDockerTlsConf(t)}`,
    ],
  };
}
