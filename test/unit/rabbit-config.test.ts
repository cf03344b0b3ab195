// The RabbitMQ configuration model (ops/rabbit-config): the §5 table of the design note for
// both renderers, the presets, and drift of the committed generated files.
import { describe, expect, it } from 'vitest';
import { drifted, generatedFiles, HEADER } from '../../ops/cluster/generate-config.ts';
import {
  RabbitConfigError,
  partitionHandlingFor,
  renderClusterConf,
  renderConf,
  renderEnabledPlugins,
  renderErlangTerms,
  type RabbitConfig,
} from '../../ops/rabbit-config/index.ts';
import { nodeSpec, resolveOptions } from '../../ops/cluster/options.ts';
import { presets } from '../../ops/cluster/presets.ts';

const full: RabbitConfig = {
  amqp: [{ ip: { var: 'addr' }, port: 5672 }],
  management: { ip: { var: 'addr' }, port: 15672 },
  defaultUser: { name: 'peter', password: 'rabbit', vhost: '/', tags: ['management'], permissions: '^(miros\\.|amq\\.gen-)' },
  maxMessageSizeBytes: 1048576,
  loopbackUsers: 'none',
  log: { file: true, console: false, level: 'info' },
  cluster: { peers: ['rabbit@10.77.0.11', 'rabbit@10.77.0.12', 'rabbit@10.77.0.13'], partitionHandling: 'pause_minority', netTicktimeS: 10 },
  plugins: ['rabbitmq_management'],
};
const vars = { addr: '10.77.0.11' };

describe('rabbit-config: rabbitmq.conf', () => {
  const conf = renderConf(full, vars).split('\n');
  it.each([
    'listeners.tcp.1 = 10.77.0.11:5672',
    'management.tcp.ip = 10.77.0.11',
    'management.tcp.port = 15672',
    'default_user = peter',
    'default_pass = rabbit',
    'default_vhost = /',
    'default_user_tags.management = true',
    'default_permissions.configure = ^(miros\\.|amq\\.gen-)',
    'max_message_size = 1048576',
    'loopback_users = none',
    'cluster_formation.peer_discovery_backend = classic_config',
    'cluster_formation.classic_config.nodes.1 = rabbit@10.77.0.11',
    'cluster_formation.classic_config.nodes.3 = rabbit@10.77.0.13',
    'cluster_partition_handling = pause_minority',
    'net_ticktime = 10',
    'log.file.level = info',
    'log.console = false',
  ])('has %s', (line) => expect(conf).toContain(line));

  it('listens on every address when no ip is given', () => {
    expect(renderConf({ ...full, amqp: [{ port: 5672 }] }, vars)).toContain('listeners.tcp.default = 5672\n');
  });

  it('names a variable that was not given', () => {
    expect(() => renderConf(full, {})).toThrow(/variable 'addr'/);
  });

  it('renders variables as Jinja for ansible, the cluster keys only where rabbitmq_cluster is on (the role joins)', () => {
    const j = renderConf(presets.ansibleHost(), 'jinja');
    expect(j).toContain('listeners.tcp.1 = {{ rabbitmq_lan_address }}:{{ rabbitmq_amqp_port }}\n');
    expect(j).toMatch(/\{% if rabbitmq_cluster %\}\n# one cluster across the group \{\{ rabbitmq_cluster_group \}\}.*\ncluster_partition_handling = \{\{ rabbitmq_partition_handling \}\}\nnet_ticktime = \{\{ rabbitmq_net_ticktime \}\}\n\{% endif %\}\n$/);
    expect(j).not.toContain('classic_config'); // classic config acts on a first boot only: the role joins explicitly
    expect(j).not.toContain('default_user'); // the play makes the users
    expect(() => renderErlangTerms(presets.ansibleHost(), {})).toThrow(RabbitConfigError);
  });

  it('renders the cluster block alone (docker conf.d)', () => {
    expect(renderClusterConf({ peers: ['rabbit@n1', 'rabbit@n2'], partitionHandling: 'autoheal', netTicktimeS: 10 }, {})).toBe(
      '# one Erlang cluster: members from the list, partitions handled deliberately (README: clustered topology)\n' +
        'cluster_formation.peer_discovery_backend = classic_config\ncluster_formation.classic_config.nodes.1 = rabbit@n1\ncluster_formation.classic_config.nodes.2 = rabbit@n2\n' +
        'cluster_partition_handling = autoheal\nnet_ticktime = 10\n',
    );
  });
});

describe('rabbit-config: Erlang terms', () => {
  const terms = renderErlangTerms(full, vars);
  it.each([
    '{tcp_listeners, [{"10.77.0.11", 5672}]}',
    '{default_user, <<"peter">>}',
    '{default_pass, <<"rabbit">>}',
    '{default_user_tags, [management]}',
    '{default_permissions, [<<"^(miros\\\\.|amq\\\\.gen-)">>, <<"^(miros\\\\.|amq\\\\.gen-)">>, <<"^(miros\\\\.|amq\\\\.gen-)">>]}',
    '{max_message_size, 1048576}',
    '{loopback_users, []}',
    "{cluster_nodes, {['rabbit@10.77.0.11', 'rabbit@10.77.0.12', 'rabbit@10.77.0.13'], disc}}",
    '{cluster_partition_handling, pause_minority}',
    '{kernel, [{net_ticktime, 10}]}',
    '{rabbitmq_management, [{tcp_config, [{ip, "10.77.0.11"}, {port, 15672}]}]}',
  ])('has %s', (term) => expect(terms).toContain(term));

  it('is one Erlang list ending in a full stop, balanced', () => {
    expect(terms.trim()).toMatch(/^\[[\s\S]*\]\.$/);
    for (const [open, close] of [['[', ']'], ['{', '}']]) expect(terms.split(open).length).toBe(terms.split(close).length);
  });

  it('leaves the cluster out of a mesh node', () => {
    const mesh = renderErlangTerms({ ...full, cluster: undefined }, vars);
    expect(mesh).not.toMatch(/cluster_nodes|net_ticktime|partition/);
  });

  it('renders tls to Erlang terms only (ansible writes its own conf.d file for it)', () => {
    const tls = { ...full, tls: { mode: 'on' as const, port: 5671, managementPort: 15671, cacert: 'a', cert: 'b', key: 'c', verifyPeer: true } };
    expect(renderErlangTerms(tls, vars)).toContain('{ssl_options, [{cacertfile, "a"}, {certfile, "b"}, {keyfile, "c"}, {verify, verify_peer}, {fail_if_no_peer_cert, true}]}');
    expect(() => renderConf(tls, vars)).toThrow(RabbitConfigError);
  });

  it('closes the plain listener under mutual TLS as under TLS only (a client without a certificate gets no way in)', () => {
    const tls = (mode: 'on' | 'only', verifyPeer: boolean) => renderErlangTerms({ ...full, tls: { mode, port: 5671, managementPort: 15671, cacert: 'a', cert: 'b', key: 'c', verifyPeer } }, vars);
    expect(tls('on', false)).toContain('{tcp_listeners, [{"10.77.0.11", 5672}]}');
    expect(tls('on', true)).toContain('{tcp_listeners, []}');
    expect(tls('only', false)).toContain('{tcp_listeners, []}');
  });

  it('loads the users from a definitions file instead of seeding a default user', () => {
    const t = renderErlangTerms({ ...full, defaultUser: undefined, definitions: { file: '/c/n1/definitions.json' } }, vars);
    expect(t).toContain('{load_definitions, "/c/n1/definitions.json"}');
    expect(t).not.toContain('default_user');
  });

  it('enabled_plugins', () => expect(renderEnabledPlugins(full)).toBe('[rabbitmq_management].\n'));
});

describe('rabbit-config: presets', () => {
  it('a local node listens on its own address; clustered, it lists every member and handles partitions by size', () => {
    const o = resolveOptions({ nodes: 3, topology: 'clustered', addressBase: '127.0.8.11', namePrefix: 'cl' });
    const c = presets.mirosnetNode(o, nodeSpec(o, 2));
    expect(c.amqp).toEqual([{ ip: '127.0.8.12', port: 5672 }]);
    expect(c.cluster).toEqual({ peers: ['cl1@localhost', 'cl2@localhost', 'cl3@localhost'], partitionHandling: 'pause_minority', netTicktimeS: 10 });
    const two = resolveOptions({ nodes: 2, topology: 'clustered', backend: 'netns', addressBase: '10.77.80.11' });
    expect(presets.mirosnetNode(two, nodeSpec(two, 1))).toMatchObject({ amqp: [{ port: 5672 }], cluster: { peers: ['rabbit@10.77.80.11', 'rabbit@10.77.80.12'], partitionHandling: 'autoheal' } });
    expect(presets.mirosnetNode(resolveOptions({ nodes: 3 }), nodeSpec(resolveOptions({ nodes: 3 }), 1)).cluster).toBeUndefined();
  });

  it('every node serves rabbitmq_prometheus on 15692: a local node on its own address (three share a machine), docker and ansible too', () => {
    const o = resolveOptions({ nodes: 3, addressBase: '127.0.8.11' });
    const local = presets.mirosnetNode(o, nodeSpec(o, 2));
    expect(local.plugins).toContain('rabbitmq_prometheus');
    expect(renderEnabledPlugins(local)).toBe('[rabbitmq_management,rabbitmq_prometheus].\n');
    expect(renderErlangTerms(local, {})).toContain('{rabbitmq_prometheus, [{tcp_config, [{ip, "127.0.8.12"}, {port, 15692}]}]}');
    const compose = presets.composeNode();
    expect(compose.plugins).toContain('rabbitmq_prometheus');
    expect(renderConf(compose, {}).split('\n')).toContain('prometheus.tcp.port = 15692');
    const ansible = renderConf(presets.ansibleHost(), 'jinja').split('\n');
    expect(ansible).toContain('prometheus.tcp.ip = {{ rabbitmq_lan_address }}');
    expect(ansible).toContain('prometheus.tcp.port = {{ rabbitmq_prometheus_port | default(15692) }}');
  });

  it('least privilege: no preset makes the app user an administrator; 1 MiB messages unless told otherwise', () => {
    const o = resolveOptions({ nodes: 1, dir: '/c' });
    const node = presets.mirosnetNode(o, nodeSpec(o, 1));
    expect(node.defaultUser).toBeUndefined();
    expect(node.definitions).toEqual({ file: '/c/n1/definitions.json' });
    expect(node.maxMessageSizeBytes).toBe(1048576);
    expect(presets.mirosnetNode(resolveOptions({ nodes: 1, maxMessageSize: 4096 }), nodeSpec(o, 1)).maxMessageSizeBytes).toBe(4096);
    expect(() => resolveOptions({ maxMessageSize: 0 })).toThrow(/maximum message size/);
    expect(presets.composeNode().defaultUser).toMatchObject({ name: 'peter', tags: ['management'], permissions: '^(miros\\.|amq\\.gen-)' });
    const ansible = renderConf(presets.ansibleHost(), 'jinja');
    expect(ansible).toContain('management.tcp.ip = {{ rabbitmq_management_address }}\n');
    expect(ansible).toContain('max_message_size = {{ rabbitmq_max_message_size }}\n');
  });

  it('pause_minority from 3 nodes, autoheal for 2', () => {
    expect([1, 2, 3, 5].map(partitionHandlingFor)).toEqual(['autoheal', 'autoheal', 'pause_minority', 'pause_minority']);
  });
});

describe('rabbit-config: generated files', () => {
  it('carry the do-not-edit header', () => {
    for (const f of generatedFiles()) expect(f.text.split('\n').slice(0, 2).join('\n')).toContain(HEADER);
  });

  it('are what the model renders (no drift: run npm run gen:rabbit)', () => {
    expect(drifted()).toEqual([]);
  });
});

describe('rabbit-config: the docker backend conf.d files', () => {
  it('mutual TLS closes the plain listener as TLS only does; server-side TLS alone keeps it', async () => {
    const { renderDockerTlsConf } = await import('../../ops/cluster/docker-tls.ts');
    expect(renderDockerTlsConf({ mode: 'on', mutual: true })).toContain('listeners.tcp = none\n');
    expect(renderDockerTlsConf({ mode: 'on', mutual: false })).not.toContain('listeners.tcp = none');
    expect(renderDockerTlsConf({ mode: 'only', mutual: true }).match(/listeners\.tcp = none/g)).toHaveLength(1);
  });

  it('loads the definitions (app user and ops admin) and sets the message size limit', async () => {
    const { renderDockerUsersConf } = await import('../../ops/cluster/docker-users.ts');
    expect(renderDockerUsersConf({ maxMessageSize: 4096 })).toMatch(/^load_definitions = \/var\/lib\/rabbitmq\/definitions\.json$[\s\S]*^max_message_size = 4096$/m);
  });

  it('the definitions file: the app user with tag management and its pattern, the admin an administrator, hashes only', async () => {
    const { renderDefinitions, passwordHash } = await import('../../ops/rabbit-config/users.ts');
    const d = JSON.parse(renderDefinitions({ name: 'peter', password: 'rabbit' }, { name: 'miros-admin', password: 'very-secret' })) as {
      users: { name: string; tags: string; password_hash: string }[];
      permissions: { user: string; configure: string }[];
    };
    expect(d.users.map((u) => [u.name, u.tags])).toEqual([['peter', 'management'], ['miros-admin', 'administrator']]);
    expect(d.permissions).toEqual([expect.objectContaining({ user: 'peter', configure: '^(miros\\.|amq\\.gen-)' }), expect.objectContaining({ user: 'miros-admin', configure: '.*' })]);
    expect(JSON.stringify(d)).not.toContain('very-secret');
    // rabbit_password_hashing_sha256: base64(salt ++ sha256(salt ++ password))
    expect(passwordHash('rabbit', Buffer.from([1, 2, 3, 4]))).toBe(Buffer.concat([Buffer.from([1, 2, 3, 4]), (await import('node:crypto')).createHash('sha256').update(Buffer.concat([Buffer.from([1, 2, 3, 4]), Buffer.from('rabbit')])).digest()]).toString('base64'));
  });
});
