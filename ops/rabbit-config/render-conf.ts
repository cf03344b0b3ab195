// rabbitmq.conf (sysctl format, read through Cuttlefish) from the model: for the docker
// image with values, for ansible with Jinja variables (`vars = 'jinja'`).
import { RabbitConfigError, type RabbitConfig, type V, type Vars, isVar, refuseTls, resolve } from './model.ts';

export function renderConf(c: RabbitConfig, vars: Vars | 'jinja'): string {
  refuseTls(c);
  const val = valueOf(vars);
  const out: string[] = [];

  c.amqp.forEach((l, i) => {
    if (l.ip === undefined) out.push(c.amqp.length === 1 ? `listeners.tcp.default = ${val(l.port, 'amqp.port')}` : `listeners.tcp.${i + 1} = ${val(l.port, 'amqp.port')}`);
    else out.push(`listeners.tcp.${i + 1} = ${val(l.ip, 'amqp.ip')}:${val(l.port, 'amqp.port')}`);
  });
  if (c.management) {
    if (c.management.ip !== undefined) out.push(`management.tcp.ip = ${val(c.management.ip, 'management.ip')}`);
    out.push(`management.tcp.port = ${val(c.management.port, 'management.port')}`);
  }
  if (c.prometheus) {
    if (c.prometheus.ip !== undefined) out.push(`prometheus.tcp.ip = ${val(c.prometheus.ip, 'prometheus.ip')}`);
    out.push(`prometheus.tcp.port = ${val(c.prometheus.port, 'prometheus.port')}`);
  }
  if (c.defaultUser) {
    const u = c.defaultUser;
    out.push('# default_user replaces guest at first boot: guest never exists');
    out.push(`default_user = ${val(u.name, 'defaultUser.name')}`, `default_pass = ${val(u.password, 'defaultUser.password')}`, `default_vhost = ${u.vhost}`);
    for (const t of u.tags) out.push(`default_user_tags.${t} = true`);
    out.push(`default_permissions.configure = ${u.permissions}`, `default_permissions.read = ${u.permissions}`, `default_permissions.write = ${u.permissions}`);
  }
  if (c.definitions) out.push('# users, vhost and permissions at every boot (no default user is seeded then)', `load_definitions = ${val(c.definitions.file, 'definitions.file')}`);
  out.push('# a larger publish closes the channel with 406 PRECONDITION_FAILED (docs/broker-security.md)', `max_message_size = ${val(c.maxMessageSizeBytes, 'maxMessageSizeBytes')}`);
  if (c.loopbackUsers === 'none') out.push('# every user may connect from anywhere', 'loopback_users = none');
  else {
    out.push('# these users may connect from this machine only (ansible: guest is deleted; should it come back, it stays local)');
    for (const u of c.loopbackUsers) out.push(`loopback_users.${u} = true`);
  }

  out.push(`log.console = ${c.log.console}`);
  if (c.log.console) out.push(`log.console.level = ${c.log.level}`);
  if (c.log.file) out.push(`log.file.level = ${c.log.level}`);
  else out.push('log.file = false');

  if (c.cluster) out.push(...renderClusterConf(c.cluster, vars).trimEnd().split('\n'));
  return out.join('\n') + '\n';
}

/** enabled_plugins: an Erlang list, read by rabbitmq-plugins and the server. */
export function renderEnabledPlugins(c: RabbitConfig): string {
  return `[${c.plugins.join(',')}].\n`;
}

/**
 * The cluster keys alone (the docker backend adds them per node as conf.d/20-cluster.conf).
 * Ansible: the block only where the inventory forms a cluster (`{% if peers %}`).
 */
export function renderClusterConf(k: NonNullable<RabbitConfig['cluster']>, vars: Vars | 'jinja'): string {
  const jinja = vars === 'jinja';
  const val = valueOf(vars);
  if ('joinedWhen' in k.peers) {
    // ansible: the role joins the members itself (classic config acts on a first boot only)
    if (!jinja) throw new RabbitConfigError('cluster.peers.joinedWhen is for the ansible template only');
    return [
      `{% if ${k.peers.joinedWhen} %}`,
      `# one cluster across the group {{ ${k.peers.group} }} (the role joins the members; partitions handled deliberately, README: clustered topology)`,
      `cluster_partition_handling = ${val(k.partitionHandling, 'cluster.partitionHandling')}`,
      `net_ticktime = ${val(k.netTicktimeS, 'cluster.netTicktimeS')}`,
      '{% endif %}',
    ].join('\n') + '\n';
  }
  const peers = k.peers;
  const body = [
    'cluster_formation.peer_discovery_backend = classic_config',
    ...(jinja && isVar(peers)
      ? [`{% for peer in ${peers.var} %}`, 'cluster_formation.classic_config.nodes.{{ loop.index }} = {{ peer }}', '{% endfor %}']
      : resolve(peers, jinja ? {} : vars, 'cluster.peers').map((p, i) => `cluster_formation.classic_config.nodes.${i + 1} = ${p}`)),
    `cluster_partition_handling = ${val(k.partitionHandling, 'cluster.partitionHandling')}`,
    `net_ticktime = ${val(k.netTicktimeS, 'cluster.netTicktimeS')}`,
  ];
  const comment = '# one Erlang cluster: members from the list, partitions handled deliberately (README: clustered topology)';
  const lines = jinja && isVar(peers) ? [`{% if ${peers.var} | default([]) %}`, comment, ...body, '{% endif %}'] : [comment, ...body];
  return lines.join('\n') + '\n';
}

/** A scalar field as text: its value, or for ansible its Jinja expression. */
function valueOf(vars: Vars | 'jinja') {
  const jinja = vars === 'jinja';
  return <T extends string | number>(v: V<T>, field: string): string =>
    jinja && isVar(v) ? `{{ ${v.var}${v.default !== undefined ? ` | default(${JSON.stringify(v.default)})` : ''} }}` : String(resolve(v, jinja ? {} : vars, field));
}
