// The testbed's `.cluster/cluster.json`: its schema and its one reader. ops/cluster writes
// it (the same shape for every backend) and reads it back; the library reads it as a hosts
// source, so the schema lives here and ops re-exports it.
import { LanFileError } from './errors.ts';
import { isObject, readJsonFile } from './json-file.ts';

export const CLUSTER_BACKENDS = ['local', 'netns', 'docker'] as const;
export type ClusterBackend = (typeof CLUSTER_BACKENDS)[number];

export interface ClusterCredentials {
  user: string;
  password: string;
}

/** One node as written in cluster.json. */
export interface ClusterNode {
  name: string;
  index: number;
  host: string;
  amqpPort: number;
  managementPort: number;
  amqpUrl: string;
  managementUrl: string;
  erlangNode: string;
  pid: number;
  dataDir: string;
  logFile: string;
}

/** `.cluster/cluster.json`: what scenarios, tests and the library read. */
export interface ClusterFile {
  backend: ClusterBackend;
  createdAt: string;
  credentials: ClusterCredentials;
  nodes: ClusterNode[];
}

/** Reads and checks a cluster file; LanFileError naming the first bad field if missing or malformed. */
export function readClusterFile(file: string): ClusterFile {
  const data = readJsonFile(file, 'cluster file');
  if (data === undefined) throw new LanFileError(file, 'cluster file not found (is the cluster up? `make cluster`)');
  const fail = (problem: string): never => {
    throw new LanFileError(file, problem);
  };
  if (!isObject(data) || !Array.isArray(data.nodes)) return fail('cluster file has no "nodes" array');
  const nodes = data.nodes.map((n: unknown, i): ClusterNode => {
    const f = fields(isObject(n) ? n : {}, `nodes[${i}].`, fail);
    const host = f.text('host');
    const amqpPort = f.port('amqpPort');
    return {
      name: f.text('name'),
      index: f.whole('index', 1),
      host,
      amqpPort,
      managementPort: f.port('managementPort'),
      amqpUrl: f.text('amqpUrl'),
      managementUrl: f.text('managementUrl'),
      erlangNode: f.text('erlangNode'),
      pid: f.whole('pid', 0),
      dataDir: f.text('dataDir'),
      logFile: f.text('logFile'),
    };
  });
  const top = fields(data, '', fail);
  const backend = top.text('backend');
  if (!(CLUSTER_BACKENDS as readonly string[]).includes(backend)) fail(`backend must be one of ${CLUSTER_BACKENDS.join(', ')}`);
  const credentials = fields(isObject(data.credentials) ? data.credentials : {}, 'credentials.', fail);
  return {
    backend: backend as ClusterBackend,
    createdAt: top.text('createdAt'),
    credentials: { user: credentials.text('user'), password: credentials.text('password') },
    nodes,
  };
}

/** The hosts of a cluster file, in node order. */
export function readClusterHosts(file: string): string[] {
  return readClusterFile(file).nodes.map((n) => n.host);
}

/** Typed fields of one JSON object; a missing or mistyped one fails with its path. */
function fields(o: Record<string, unknown>, at: string, fail: (problem: string) => never) {
  return {
    text(key: string): string {
      const v = o[key];
      return typeof v === 'string' && v !== '' ? v : fail(`${at}${key} must be a non-empty string`);
    },
    whole(key: string, min: number): number {
      const v = o[key];
      return typeof v === 'number' && Number.isSafeInteger(v) && v >= min ? v : fail(`${at}${key} must be a whole number ≥ ${min}`);
    },
    port(key: string): number {
      const v = o[key];
      return typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 65535 ? v : fail(`${at}${key} must be a port number`);
    },
  };
}
