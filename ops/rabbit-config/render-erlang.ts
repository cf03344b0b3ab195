// The classic Erlang-term config (rabbitmq.config) from the model: local and netns nodes
// use it because it skips Cuttlefish's schema pass, ~0.4 s of CPU per node start.
import { RabbitConfigError, plainListenerClosed, type RabbitConfig, type V, type Vars, resolve } from './model.ts';

const bin = (s: string) => `<<"${s.replace(/["\\]/g, (ch) => `\\${ch}`)}">>`;
const str = (s: string) => `"${s.replace(/["\\]/g, (ch) => `\\${ch}`)}"`;
const atom = (s: string) => (/^[a-z][a-zA-Z0-9_]*$/.test(s) ? s : `'${s.replace(/'/g, "\\'")}'`);

export function renderErlangTerms(c: RabbitConfig, vars: Vars): string {
  const v = <T extends string | number | string[]>(x: V<T>, field: string): T => resolve(x, vars, field);
  const rabbit: string[] = [];
  const listeners = c.amqp.map((l) => (l.ip === undefined ? String(v(l.port, 'amqp.port')) : `{${str(v(l.ip, 'amqp.ip'))}, ${v(l.port, 'amqp.port')}}`));
  const tls = c.tls;
  rabbit.push(`{tcp_listeners, [${plainListenerClosed(tls) ? '' : listeners.join(', ')}]}`);
  const certs = tls ? [`{cacertfile, ${str(tls.cacert)}}`, `{certfile, ${str(tls.cert)}}`, `{keyfile, ${str(tls.key)}}`] : [];
  if (tls) {
    const ssl = c.amqp.map((l) => (l.ip === undefined ? String(tls.port) : `{${str(v(l.ip, 'amqp.ip'))}, ${tls.port}}`));
    // mutual TLS: the broker asks for a client certificate signed by the CA and refuses a client without one
    const verify = tls.verifyPeer ? ['{verify, verify_peer}', '{fail_if_no_peer_cert, true}'] : ['{verify, verify_none}'];
    rabbit.push(`{ssl_listeners, [${ssl.join(', ')}]}`, `{ssl_options, [${[...certs, ...verify].join(', ')}]}`);
  }
  if (c.defaultUser) {
    const u = c.defaultUser;
    rabbit.push(
      `{default_user, ${bin(v(u.name, 'defaultUser.name'))}}`,
      `{default_pass, ${bin(v(u.password, 'defaultUser.password'))}}`,
      `{default_vhost, ${bin(u.vhost)}}`,
      `{default_user_tags, [${u.tags.map(atom).join(', ')}]}`,
      `{default_permissions, [${bin(u.permissions)}, ${bin(u.permissions)}, ${bin(u.permissions)}]}`,
    );
  }
  if (c.definitions) rabbit.push(`{load_definitions, ${str(v(c.definitions.file, 'definitions.file'))}}`);
  rabbit.push(`{max_message_size, ${v(c.maxMessageSizeBytes, 'maxMessageSizeBytes')}}`);
  rabbit.push(`{loopback_users, [${c.loopbackUsers === 'none' ? '' : c.loopbackUsers.map(bin).join(', ')}]}`);
  rabbit.push(
    `{log, [{console, [{enabled, ${c.log.console}}${c.log.console ? `, {level, ${c.log.level}}` : ''}]}, {file, [${c.log.file ? `{level, ${c.log.level}}` : '{file, false}'}]}]}`,
  );
  const apps: string[] = [];
  if (c.cluster) {
    const given = c.cluster.peers;
    if ('joinedWhen' in given) throw new RabbitConfigError('cluster.peers.joinedWhen is for the ansible template only');
    const peers = v(given, 'cluster.peers');
    rabbit.push(`{cluster_nodes, {[${peers.map(atom).join(', ')}], disc}}`);
    rabbit.push(`{cluster_partition_handling, ${v(c.cluster.partitionHandling, 'cluster.partitionHandling')}}`);
    apps.push(` {kernel, [{net_ticktime, ${v(c.cluster.netTicktimeS, 'cluster.netTicktimeS')}}]}`);
  }
  apps.unshift(` {rabbit, [\n   ${rabbit.join(',\n   ')}\n ]}`);
  if (c.management) {
    const m = c.management;
    const ip = m.ip !== undefined ? [`{ip, ${str(v(m.ip, 'management.ip'))}}`] : [];
    const listener =
      tls?.mode === 'only'
        ? `{ssl_config, [${[...ip, `{port, ${tls.managementPort}}`, ...certs].join(', ')}]}`
        : `{tcp_config, [${[...ip, `{port, ${v(m.port, 'management.port')}}`].join(', ')}]}`;
    apps.push(` {rabbitmq_management, [${listener}]}`);
  }
  if (c.prometheus) {
    const p = c.prometheus;
    const ip = p.ip !== undefined ? [`{ip, ${str(v(p.ip, 'prometheus.ip'))}}`] : [];
    apps.push(` {rabbitmq_prometheus, [{tcp_config, [${[...ip, `{port, ${v(p.port, 'prometheus.port')}}`].join(', ')}]}]}`);
  }
  return `[\n${apps.join(',\n')}\n].\n`;
}
