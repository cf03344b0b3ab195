// One RabbitMQ node configuration (docs/design/links-and-backends.md §5), rendered three
// ways: Erlang terms for the local and netns nodes (no Cuttlefish pass at start),
// rabbitmq.conf for the docker image, and rabbitmq.conf with Jinja variables for ansible.
// → one source: the three broker configs cannot drift apart.

/** A value, or a per-host variable: looked up in `vars` when rendered, `{{ name }}` for ansible. */
export type V<T> = T | Var;
export interface Var {
  var: string;
  /** Ansible only: `{{ name | default(value) }}`, for variables a role's defaults may not have yet. */
  default?: string | number;
}

export type PartitionHandling = 'pause_minority' | 'autoheal';
export type LogLevel = 'debug' | 'info' | 'warning' | 'error';

export interface RabbitConfig {
  /** AMQP listeners; no `ip` = every address. */
  amqp: Array<{ ip?: V<string>; port: V<number> }>;
  management?: { ip?: V<string>; port: V<number> };
  /** rabbitmq_prometheus's listener (GET /metrics, plain HTTP); needs the plugin in `plugins`. */
  prometheus?: { ip?: V<string>; port: V<number> };
  /**
   * The user that replaces guest at first boot, with `tags` and the same configure/write/read
   * `permissions` pattern (compose: the app user, least privilege). Ansible: absent (its play makes the users).
   */
  defaultUser?: { name: V<string>; password: V<string>; vhost: '/'; tags: string[]; permissions: string };
  /**
   * Users, vhost and permissions loaded from a definitions file at every boot (RabbitMQ then
   * seeds no default user): the app user and the ops admin (ops/rabbit-config/users.ts). The
   * backend writes the file, 0600, where `file` says.
   */
  definitions?: { file: V<string> };
  /** Bytes; a larger publish is refused by the broker (channel closed with 406 PRECONDITION_FAILED). */
  maxMessageSizeBytes: V<number>;
  /** Users that may connect from loopback only: 'none' = nobody is restricted. */
  loopbackUsers: 'none' | string[];
  log: { file: boolean; console: boolean; level: LogLevel };
  /** One Erlang cluster: classic-config peer discovery, partition handling, tick time. */
  cluster?: {
    /** Classic-config peers; or, for ansible, joined explicitly by the role where the variable `joinedWhen` is true. */
    peers: V<string[]> | { joinedWhen: string; group: string };
    partitionHandling: V<PartitionHandling>;
    netTicktimeS: V<number>;
  };
  /** → enabled_plugins */
  plugins: string[];
  /**
   * TLS listeners (AMQPS on `port`); `only` drops the plain listener and moves the management
   * API to HTTPS on `managementPort`; `verifyPeer` asks for a client certificate from the CA
   * and refuses a client without one, and closes the plain listener too (else a client without
   * a certificate would get in on 5672 with just the password). Rendered to Erlang terms only (rabbitmq.conf: ansible's
   * tls.yml writes its own conf.d file).
   */
  tls?: { mode: 'on' | 'only'; port: number; managementPort: number; cacert: string; cert: string; key: string; verifyPeer: boolean };
}

/** Per-host values for the `{var}` fields (a node's address, the peers of its cluster, …). */
export type Vars = Record<string, string | number | string[]>;

export const isVar = (v: unknown): v is Var => typeof v === 'object' && v !== null && !Array.isArray(v) && typeof (v as Var).var === 'string';

/** The partition handling the design asks for: with two nodes pause_minority would pause both. */
export function partitionHandlingFor(nodes: number): PartitionHandling {
  return nodes >= 3 ? 'pause_minority' : 'autoheal';
}

/** Seconds; RabbitMQ's default is 60 (a cut noticed after 45–75 s), 10 notices it in ~12 s. */
export const NET_TICKTIME_S = 10;

export class RabbitConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RabbitConfigError';
  }
}

/** The value of `v`, a variable looked up in `vars` (a missing one is an error naming it). */
export function resolve<T extends string | number | string[]>(v: V<T>, vars: Vars, field: string): T {
  if (!isVar(v)) return v;
  const value = vars[v.var];
  if (value === undefined) throw new RabbitConfigError(`${field} needs the variable '${v.var}', which was not given`);
  return value as T;
}

/** No plain AMQP listener: TLS only, or mutual TLS (a plain port would bypass the client certificate). */
export const plainListenerClosed = (tls: RabbitConfig['tls']): boolean => tls !== undefined && (tls.mode === 'only' || tls.verifyPeer);

export function refuseTls(c: RabbitConfig): void {
  if (c.tls) throw new RabbitConfigError('tls is rendered to Erlang terms only (rabbitmq.conf: ansible/roles/rabbitmq/tasks/tls.yml)');
}
