// The three places a RabbitMQ node is configured, as models: a mirosnet node (local, netns),
// the docker image (compose/rabbitmq/rabbitmq.conf) and an ansible host (the role's template).
import { AMQP_PORT, AMQPS_PORT, CREDENTIALS, MANAGEMENT_PORT, MANAGEMENT_TLS_PORT, PROMETHEUS_PORT, brokerTls, nodeSpec, type BrokerTls, type NodeSpec } from './options.ts';
import type { ResolvedOptions } from './types.ts';
import { NET_TICKTIME_S, partitionHandlingFor, type RabbitConfig } from '../rabbit-config/model.ts';
import { APP_PERMISSIONS, APP_TAGS, DEFAULT_MAX_MESSAGE_SIZE, definitionsFileOf } from '../rabbit-config/users.ts';

// the management API and UI; rabbitmq_prometheus: the broker's metrics on PROMETHEUS_PORT (docs/metrics.md)
const MANAGEMENT = ['rabbitmq_management', 'rabbitmq_prometheus'];

/** The cluster block of a clustered testbed of `nodes` members (their Erlang names). */
export function clusterOf(members: string[]): NonNullable<RabbitConfig['cluster']> {
  return { peers: members, partitionHandling: partitionHandlingFor(members.length), netTicktimeS: NET_TICKTIME_S };
}

/** The Erlang names of a testbed's members, node 1 first. */
export function membersOf(o: ResolvedOptions): string[] {
  return Array.from({ length: o.nodes }, (_, i) => nodeSpec(o, i + 1).erlangNode);
}

export const presets = {
  /** local: listens on its own 127.0.0.x only; netns: every address of its namespace (lo and eth0). */
  mirosnetNode(o: ResolvedOptions, s: NodeSpec): RabbitConfig {
    const ip = o.backend === 'local' ? s.host : undefined;
    return {
      amqp: [{ ip, port: AMQP_PORT }],
      management: { ip, port: MANAGEMENT_PORT },
      prometheus: { ip, port: PROMETHEUS_PORT },
      // the app user and the ops admin (ops/cluster/admin.ts writes the file)
      definitions: { file: definitionsFileOf(s.nodeDir) },
      maxMessageSizeBytes: o.maxMessageSize,
      loopbackUsers: 'none',
      log: { file: true, console: false, level: 'info' },
      ...(o.topology === 'clustered' ? { cluster: clusterOf(membersOf(o)) } : {}),
      plugins: MANAGEMENT,
      ...tlsOf(brokerTls(o, s.host)),
    };
  },

  /** The docker image: every address, logs to the container's stdout; the backend adds the cluster block per node. */
  composeNode(): RabbitConfig {
    return {
      amqp: [{ port: AMQP_PORT }],
      management: { port: MANAGEMENT_PORT },
      prometheus: { port: PROMETHEUS_PORT },
      // the app user only (the docker backend adds its admin through a definitions file)
      defaultUser: { name: CREDENTIALS.user, password: CREDENTIALS.password, vhost: '/', tags: APP_TAGS, permissions: APP_PERMISSIONS },
      maxMessageSizeBytes: DEFAULT_MAX_MESSAGE_SIZE,
      loopbackUsers: 'none',
      log: { file: false, console: true, level: 'info' },
      plugins: MANAGEMENT,
    };
  },

  /**
   * An ansible host: AMQP on its LAN address only; users come from the play (guest is deleted, and
   * loopback-only should it come back); the cluster keys where `rabbitmq_cluster` is true (the role joins).
   */
  ansibleHost(): RabbitConfig {
    return {
      amqp: [{ ip: { var: 'rabbitmq_lan_address' }, port: { var: 'rabbitmq_amqp_port' } }],
      // loopback unless TLS is on or rabbitmq_management_address says otherwise (defaults/main.yml)
      management: { ip: { var: 'rabbitmq_management_address' }, port: { var: 'rabbitmq_management_port' } },
      maxMessageSizeBytes: { var: 'rabbitmq_max_message_size' },
      prometheus: { ip: { var: 'rabbitmq_lan_address' }, port: { var: 'rabbitmq_prometheus_port', default: 15692 } },
      loopbackUsers: ['guest'],
      log: { file: true, console: false, level: 'info' },
      cluster: {
        peers: { joinedWhen: 'rabbitmq_cluster', group: 'rabbitmq_cluster_group' },
        partitionHandling: { var: 'rabbitmq_partition_handling' },
        netTicktimeS: { var: 'rabbitmq_net_ticktime' },
      },
      plugins: MANAGEMENT,
    };
  },
};

/** The model's TLS block from the testbed's certificates (ops/tls), or nothing when TLS is off. */
function tlsOf(t: BrokerTls | undefined): Pick<RabbitConfig, 'tls'> {
  if (!t) return {};
  return { tls: { mode: t.mode, port: AMQPS_PORT, managementPort: MANAGEMENT_TLS_PORT, cacert: t.caFile, cert: t.certFile, key: t.keyFile, verifyPeer: t.mutual } };
}
