// Types shared by the cluster backends, the CLI, the test setup and scenarios.
// cluster.json's schema (ClusterFile, ClusterNode) is the runtime's: the library reads it too.
import type {
  ClusterBackend,
  ClusterCredentials,
  ClusterMembership,
  ClusterNode,
  ClusterNodeProxy,
  ClusterTls,
  ClusterTopology,
  ClusterToxics,
} from '../../runtime/lan/index.ts';

import type { ClusterFile } from '../../runtime/lan/index.ts';
export type { ClusterFile, ClusterFileDraft } from '../../runtime/lan/index.ts';
export type { ClusterMembership, ClusterNode, ClusterNodeProxy, ClusterTls, ClusterTopology, ClusterToxics };

/** TLS on the brokers: off (default), on (5671 beside 5672), only (5671, no 5672, management on HTTPS 15671). */
export type TlsMode = 'off' | 'on' | 'only';
export type BackendKind = ClusterBackend;
export type Credentials = ClusterCredentials;

export interface ClusterOptions {
  /** Number of nodes (default 3). */
  nodes?: number;
  /** 'local' (default; processes on 127.0.0.x), 'netns' (root; one namespace per host) or 'docker' (containers on a bridge; a Docker engine and a local debian:bookworm-slim image). */
  backend?: BackendKind;
  /** 'mesh' (default): independent brokers; 'clustered': the nodes form one RabbitMQ cluster (README: clustered topology). */
  topology?: ClusterTopology;
  /** State directory (default `.cluster` in the current directory, or $MIROS_CLUSTER_DIR). */
  dir?: string;
  /** Address of node 1; node i gets the last octet + (i - 1). Default 127.0.0.11 (local), 10.77.0.11 (netns), 10.78.0.11 (docker). */
  addressBase?: string;
  /** Node names are `<namePrefix><i>` (default 'n'): n1, n2, … */
  namePrefix?: string;
  /** Erlang distribution port of node i is distPortBase + i (default 25680; local backend). */
  distPortBase?: number;
  /** Port of the epmd the local nodes register with (default 4369). */
  epmdPort?: number;
  /** netns backend: namespaces `<nsPrefix>-<i>`, bridge `<nsPrefix>-br` (default 'mrn'). */
  nsPrefix?: string;
  /** Extra emulator flags for every node (default `+stbt u`: schedulers not bound to cores, see options.ts). */
  erlArgs?: string;
  /** Per node start timeout (default 180 s). */
  startTimeoutMs?: number;
  /** TLS on the brokers (default off; every backend): see TlsMode. */
  tls?: TlsMode;
  /** With tls: brokers require a client certificate signed by the CA (mutual TLS). */
  tlsMutual?: boolean;
  /** With tls: the CA and certificates (`mirosnet tls init`; made if missing). Default `<dir>/tls`. */
  tlsDir?: string;
  /** Progress lines (default: to stderr). Pass `() => {}` for silence. */
  log?: (line: string) => void;
  /** Bytes: the brokers refuse a larger publish (default 1 MiB; docs/broker-security.md). */
  maxMessageSize?: number;
  /**
   * Local and netns: a stopped node's data that would bring back another cluster than the
   * one asked for (another topology, members outside the set) is reset, with one line saying
   * so; with keepData, `up` refuses instead and names the command that resets it.
   */
  keepData?: boolean;
}

export interface ResolvedOptions {
  nodes: number;
  backend: BackendKind;
  topology: ClusterTopology;
  dir: string;
  addressBase: string;
  namePrefix: string;
  distPortBase: number;
  epmdPort: number;
  nsPrefix: string;
  erlArgs: string;
  startTimeoutMs: number;
  tls: TlsMode;
  tlsMutual: boolean;
  /** Absolute. */
  tlsDir: string;
  log: (line: string) => void;
  maxMessageSize: number;
  keepData: boolean;
}

export type NodeState = 'healthy' | 'unhealthy' | 'partitioned' | 'down';

export interface NodeStatus {
  node: ClusterNode;
  /** The node's own view of its cluster, from /api/nodes (every topology): the members its broker reports running, the partitions it sees. */
  membership?: NodeMembership;
  state: NodeState;
  healthy: boolean;
  /** Why it is not healthy, when it is not. */
  detail?: string;
  rssMb?: number;
}

/** One node's view of the Erlang cluster, from its management API's /api/nodes. */
export interface NodeMembership {
  /** Members it reports running. */
  running: string[];
  /** Members it knows but reports not running. */
  stopped: string[];
  /** Nodes it is partitioned from (RabbitMQ's `partitions`). */
  partitions: string[];
}

export interface ClusterStatus {
  dir: string;
  backend?: BackendKind;
  topology?: ClusterTopology;
  /** Clustered: the recorded membership (cluster.json's `cluster`). */
  cluster?: ClusterMembership;
  /** False when no cluster is recorded in `dir`. */
  up: boolean;
  nodes: NodeStatus[];
}

export interface StoppedCluster {
  readonly dir: string;
  readonly backend: BackendKind;
  readonly nodes: string[];
  readonly stoppedAt: string;
}

export interface StartedCluster extends AsyncDisposable {
  readonly dir: string;
  readonly backend: BackendKind;
  readonly file: ClusterFile;
  readonly nodes: ClusterNode[];
  readonly credentials: Credentials;
  /** AMQP URLs, node 1 first. */
  urls(): string[];
  managementUrls(): string[];
  node(nameOrIndex: string | number): ClusterNode;
  stop(): Promise<StoppedCluster>;
}
