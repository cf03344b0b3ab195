// The testbed's `.cluster/cluster.json`: its schema and its one reader. ops/cluster writes
// it (the same shape for every backend) and reads it back; the library reads it as a hosts
// source, so the schema lives here and ops re-exports it.
//
// Version 2 (docs/design/links-and-backends.md §6) only adds to version 1, which had no
// `version` field: v1 readers keep working on v2 files, and a v1 file is migrated in memory
// here (never rewritten: the next `cluster up` writes v2).
import { LanFileError } from './errors.ts';
import { isObject, readJsonFile } from './json-file.ts';

/** The version this reader understands and ops/cluster writes. */
export const CLUSTER_FILE_VERSION = 2;

export const CLUSTER_BACKENDS = ['local', 'netns', 'docker'] as const;
export type ClusterBackend = (typeof CLUSTER_BACKENDS)[number];

/** mesh: independent brokers, every chart links to each; clustered: one Erlang cluster. */
export const CLUSTER_TOPOLOGIES = ['mesh', 'clustered'] as const;
export type ClusterTopology = (typeof CLUSTER_TOPOLOGIES)[number];

/** The values RabbitMQ's `cluster_partition_handling` takes in our config model (§5). */
export const PARTITION_HANDLINGS = ['pause_minority', 'autoheal'] as const;
export type PartitionHandling = (typeof PARTITION_HANDLINGS)[number];

export interface ClusterCredentials {
  user: string;
  password: string;
}

/** The Erlang cluster the nodes form; present only when `topology` is 'clustered'. */
export interface ClusterMembership {
  /** Erlang node names of the members, e.g. rabbit@10.77.0.11. */
  members: string[];
  partitionHandling: PartitionHandling;
  /** Seconds. */
  netTicktime: number;
}

/** Which fault injectors the testbed runs: a TCP proxy per node (`--toxics`), netem qdiscs. */
export interface ClusterToxics {
  proxy: boolean;
  netem: boolean;
}

/** A node's TCP proxy (with `--toxics`): clients dial `listen`, it forwards to `broker`. */
export interface ClusterNodeProxy {
  pid: number;
  /** host:port */
  listen: string;
  /** host:port */
  broker: string;
  /** Its control socket. */
  control: string;
}

/** TLS on the testbed's brokers (`cluster up --tls on|only`); absent when off. */
export const CLUSTER_TLS_MODES = ['on', 'only'] as const;
export type ClusterTlsMode = (typeof CLUSTER_TLS_MODES)[number];

/** v2, only with `--tls`: every node's amqpUrl is then amqps:// (amqpPort 5671). */
export interface ClusterTls {
  /** on: TLS on 5671 and plain AMQP on 5672; only: no plain AMQP, the management API on HTTPS. */
  mode: ClusterTlsMode;
  /** The CA that signed every node's certificate (PEM): what clients verify brokers against. */
  caFile: string;
  /** The TLS directory (`mirosnet tls init`): hosts/<host>/client.pem and client.key are each host's client certificate. */
  dir: string;
  /** Brokers require a client certificate signed by the CA (mutual TLS, fail_if_no_peer_cert). */
  mutual: boolean;
}

/** One node as written in cluster.json. */
export interface ClusterNode {
  name: string;
  index: number;
  host: string;
  /** What clients dial (the proxy's port, if any). */
  amqpPort: number;
  managementPort: number;
  /** What clients dial (the proxy's address, if any). */
  amqpUrl: string;
  managementUrl: string;
  /** rabbitmq_prometheus's port (GET http://host:port/metrics); absent in files of older versions. */
  prometheusPort?: number;
  erlangNode: string;
  /** v2. Erlang distribution port; null where the backend does not set it (docker) or in a migrated v1 file. */
  distPort: number | null;
  pid: number;
  /** v2. netns: the node's network namespace; null elsewhere. */
  namespace: string | null;
  /** v2. docker: the node's container; null elsewhere. */
  container: string | null;
  dataDir: string;
  logFile: string;
  /** v2, only with `--toxics`. */
  proxy?: ClusterNodeProxy;
}

/** `.cluster/cluster.json`: what scenarios, tests and the library read. Always version 2 once read. */
export interface ClusterFile {
  version: typeof CLUSTER_FILE_VERSION;
  backend: ClusterBackend;
  topology: ClusterTopology;
  createdAt: string;
  credentials: ClusterCredentials;
  /** Only when `topology` is 'clustered'. */
  cluster?: ClusterMembership;
  toxics: ClusterToxics;
  /** Only with `--tls`. */
  tls?: ClusterTls;
  nodes: ClusterNode[];
}

/**
 * What a writer supplies: a cluster file whose envelope (version, topology, toxics) may be left
 * out, because today it has one value (a mesh without toxics). `completeClusterFile` fills it.
 */
export type ClusterFileDraft = Omit<ClusterFile, 'version' | 'topology' | 'toxics'> & Partial<Pick<ClusterFile, 'version' | 'topology' | 'toxics'>>;

/** Nothing forms clusters or runs toxics yet: the defaults of a draft and of a migrated v1 file. */
const MESH: ClusterTopology = 'mesh';
const NO_TOXICS: ClusterToxics = { proxy: false, netem: false };

/** A version 2 file from a draft, keys in the documented order (the file is read by people too). */
export function completeClusterFile(draft: ClusterFileDraft): ClusterFile {
  return {
    version: CLUSTER_FILE_VERSION,
    backend: draft.backend,
    topology: draft.topology ?? MESH,
    createdAt: draft.createdAt,
    credentials: draft.credentials,
    ...(draft.cluster ? { cluster: draft.cluster } : {}),
    toxics: draft.toxics ?? { ...NO_TOXICS },
    ...(draft.tls ? { tls: draft.tls } : {}),
    nodes: draft.nodes,
  };
}

/** A cluster file written by a newer mirosnet than this one: upgrading, not re-creating, helps. */
export class NewerClusterFileError extends LanFileError {
  readonly version: number;
  constructor(file: string, version: number) {
    super(file, `written by a newer mirosnet (version ${version}); upgrade miros-rabbitmq`);
    this.name = 'NewerClusterFileError';
    this.version = version;
  }
}

/** Reads and checks a cluster file; LanFileError naming the first bad field if missing or malformed. */
export function readClusterFile(file: string): ClusterFile {
  const data = readJsonFile(file, 'cluster file');
  if (data === undefined) throw new LanFileError(file, 'cluster file not found (is the cluster up? `make cluster`)');
  return parseClusterFile(data, file);
}

/**
 * Checks parsed JSON as a cluster file (`file` names it in errors): version 2 as it is, version 1
 * (no `version`) migrated, a newer version refused (NewerClusterFileError) rather than misread.
 */
export function parseClusterFile(data: unknown, file: string): ClusterFile {
  const fail = (problem: string): never => {
    throw new LanFileError(file, problem);
  };
  if (!isObject(data)) return fail('cluster file has no "nodes" array');
  // the version first: a newer file may be shaped differently, and "upgrade" is the useful answer
  const version = data.version;
  if (version !== undefined && !(typeof version === 'number' && Number.isSafeInteger(version) && version >= 1)) {
    fail('version must be a whole number ≥ 1 (a version 1 file has none)');
  }
  if (typeof version === 'number' && version > CLUSTER_FILE_VERSION) throw new NewerClusterFileError(file, version);
  const v2 = version === CLUSTER_FILE_VERSION;
  if (!Array.isArray(data.nodes)) return fail('cluster file has no "nodes" array');

  const nodes = data.nodes.map((n: unknown, i): ClusterNode => {
    const o = isObject(n) ? n : {};
    const f = fields(o, `nodes[${i}].`, fail);
    // host and amqpPort first, as before: what a hosts reader needs is what it hears about first
    const host = f.text('host');
    const amqpPort = f.port('amqpPort');
    const name = f.text('name');
    const index = f.whole('index', 1);
    const managementPort = f.port('managementPort');
    const amqpUrl = f.text('amqpUrl');
    const managementUrl = f.text('managementUrl');
    const prometheusPort = o.prometheusPort === undefined ? undefined : f.port('prometheusPort');
    const erlangNode = f.text('erlangNode');
    // v1 had no such fields: null, never guessed from the backend
    const distPort = v2 ? f.portOrNull('distPort') : null;
    const pid = f.whole('pid', 0);
    const namespace = v2 ? f.textOrNull('namespace') : null;
    const container = v2 ? f.textOrNull('container') : null;
    const dataDir = f.text('dataDir');
    const logFile = f.text('logFile');
    const proxy = v2 && o.proxy !== undefined ? readProxy(f.object('proxy'), `nodes[${i}].proxy.`, fail) : undefined;
    return { name, index, host, amqpPort, managementPort, amqpUrl, managementUrl, ...(prometheusPort === undefined ? {} : { prometheusPort }), erlangNode, distPort, pid, namespace, container, dataDir, logFile, ...(proxy ? { proxy } : {}) };
  });

  const top = fields(data, '', fail);
  const backend = top.oneOf('backend', CLUSTER_BACKENDS);
  const topology = v2 ? top.oneOf('topology', CLUSTER_TOPOLOGIES) : MESH;
  const createdAt = top.text('createdAt');
  const credentials = fields(isObject(data.credentials) ? data.credentials : {}, 'credentials.', fail);
  const user = credentials.text('user');
  const password = credentials.text('password');
  let cluster: ClusterMembership | undefined;
  if (v2 && topology === 'clustered') cluster = readMembership(top.object('cluster'), fail);
  else if (v2 && data.cluster !== undefined) fail('cluster must be absent when topology is mesh');
  const toxics = v2 ? readToxics(top.object('toxics'), fail) : { ...NO_TOXICS };
  const tls = v2 && data.tls !== undefined ? readTls(top.object('tls'), fail) : undefined;
  return completeClusterFile({ backend, topology, createdAt, credentials: { user, password }, cluster, toxics, tls, nodes });
}

/** The hosts of a cluster file, in node order. */
export function readClusterHosts(file: string): string[] {
  return readClusterFile(file).nodes.map((n) => n.host);
}

type Fail = (problem: string) => never;

function readMembership(o: Record<string, unknown>, fail: Fail): ClusterMembership {
  const f = fields(o, 'cluster.', fail);
  return { members: f.texts('members'), partitionHandling: f.oneOf('partitionHandling', PARTITION_HANDLINGS), netTicktime: f.whole('netTicktime', 1) };
}

function readToxics(o: Record<string, unknown>, fail: Fail): ClusterToxics {
  const f = fields(o, 'toxics.', fail);
  return { proxy: f.flag('proxy'), netem: f.flag('netem') };
}

function readTls(o: Record<string, unknown>, fail: Fail): ClusterTls {
  const f = fields(o, 'tls.', fail);
  return { mode: f.oneOf('mode', CLUSTER_TLS_MODES), caFile: f.text('caFile'), dir: f.text('dir'), mutual: f.flag('mutual') };
}

function readProxy(o: Record<string, unknown>, at: string, fail: Fail): ClusterNodeProxy {
  const f = fields(o, at, fail);
  return { pid: f.whole('pid', 1), listen: f.text('listen'), broker: f.text('broker'), control: f.text('control') };
}

/** Typed fields of one JSON object; a missing or mistyped one fails with its path. */
function fields(o: Record<string, unknown>, at: string, fail: Fail) {
  const isPort = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 65535;
  const isText = (v: unknown): v is string => typeof v === 'string' && v !== '';
  return {
    text(key: string): string {
      const v = o[key];
      return isText(v) ? v : fail(`${at}${key} must be a non-empty string`);
    },
    textOrNull(key: string): string | null {
      const v = o[key];
      return v === null || isText(v) ? v : fail(`${at}${key} must be a non-empty string or null`);
    },
    texts(key: string): string[] {
      const v = o[key];
      return Array.isArray(v) && v.length > 0 && v.every(isText) ? v : fail(`${at}${key} must be a non-empty array of non-empty strings`);
    },
    whole(key: string, min: number): number {
      const v = o[key];
      return typeof v === 'number' && Number.isSafeInteger(v) && v >= min ? v : fail(`${at}${key} must be a whole number ≥ ${min}`);
    },
    port(key: string): number {
      const v = o[key];
      return isPort(v) ? v : fail(`${at}${key} must be a port number`);
    },
    portOrNull(key: string): number | null {
      const v = o[key];
      return v === null || isPort(v) ? v : fail(`${at}${key} must be a port number or null`);
    },
    flag(key: string): boolean {
      const v = o[key];
      return typeof v === 'boolean' ? v : fail(`${at}${key} must be true or false`);
    },
    oneOf<T extends string>(key: string, allowed: readonly T[]): T {
      const v = o[key];
      return (allowed as readonly unknown[]).includes(v) ? (v as T) : fail(`${at}${key} must be one of ${allowed.join(', ')}`);
    },
    object(key: string): Record<string, unknown> {
      const v = o[key];
      return isObject(v) ? v : fail(`${at}${key} must be an object`);
    },
  };
}
