// The local testbed's `.cluster/cluster.json` (written by ops/cluster), read as a hosts source:
// { backend, credentials: { user, password }, nodes: [{ name, index, host, amqpPort, ... }] }.
import { LanFileError } from './errors.ts';
import { isObject, readJsonFile } from './json-file.ts';

export interface ClusterFileNode {
  host: string;
  amqpPort: number;
  name?: string;
  [key: string]: unknown;
}

export interface ClusterFileInfo {
  nodes: ClusterFileNode[];
  credentials?: { user: string; password: string };
}

/** Reads and checks a cluster file; LanFileError if missing or malformed. */
export function readClusterFile(file: string): ClusterFileInfo {
  const data = readJsonFile(file, 'cluster file');
  if (data === undefined) throw new LanFileError(file, 'cluster file not found (is the cluster up? `make cluster`)');
  if (!isObject(data) || !Array.isArray(data.nodes)) throw new LanFileError(file, 'cluster file has no "nodes" array');
  const nodes = data.nodes.map((n, i): ClusterFileNode => {
    if (!isObject(n) || typeof n.host !== 'string' || n.host === '') {
      throw new LanFileError(file, `nodes[${i}].host must be a non-empty string`);
    }
    const amqpPort = n.amqpPort ?? 5672;
    if (typeof amqpPort !== 'number' || !Number.isInteger(amqpPort) || amqpPort < 1 || amqpPort > 65535) {
      throw new LanFileError(file, `nodes[${i}].amqpPort must be a port number`);
    }
    return { ...n, host: n.host, amqpPort };
  });
  const info: ClusterFileInfo = { nodes };
  const c = data.credentials;
  if (isObject(c) && typeof c.user === 'string' && typeof c.password === 'string') info.credentials = { user: c.user, password: c.password };
  return info;
}

/** The hosts of a cluster file, in node order. */
export function readClusterHosts(file: string): string[] {
  return readClusterFile(file).nodes.map((n) => n.host);
}
