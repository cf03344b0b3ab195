// cluster.json (public, read by tests, scenarios and the library; its schema and reader
// are the runtime's) and state.json (internal: pids and settings, enough for `down` to
// clean up after a failed `up`).
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  NewerClusterFileError,
  completeClusterFile,
  parseClusterFile,
  readClusterFile as readClusterFileAt,
  type ClusterFile,
  type ClusterFileDraft,
} from '../../runtime/lan/cluster-file.ts';
import { LanFileError } from '../../runtime/lan/errors.ts';
import { ClusterError } from './errors.ts';
import { defaultDir } from './options.ts';
import type { BackendKind, ResolvedOptions } from './types.ts';

export const CLUSTER_FILE = 'cluster.json';
const STATE_FILE = 'state.json';

export function clusterFilePath(dir: string = defaultDir()): string {
  return join(dir, CLUSTER_FILE);
}

/** The running cluster's description (always version 2; a v1 file is migrated in memory), or undefined when no cluster is up in `dir`. */
export function readClusterFile(dir: string = defaultDir()): ClusterFile | undefined {
  const file = clusterFilePath(dir);
  if (!existsSync(file)) return undefined;
  try {
    return readClusterFileAt(file);
  } catch (err) {
    // a newer mirosnet's cluster: this one cannot take it down either, so only upgrading helps
    if (err instanceof NewerClusterFileError) throw new ClusterError(`cannot read ${err.message}`, 'use the mirosnet that started this cluster, or upgrade: npm install miros-rabbitmq@latest');
    if (!(err instanceof LanFileError)) throw err;
    throw new ClusterError(`cannot read ${err.message}`, 'run `mirosnet cluster down` then `up` again');
  }
}

export function writeJsonAtomic(file: string, value: unknown): void {
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(`${file}.tmp`, JSON.stringify(value, null, 2) + '\n');
  renameSync(`${file}.tmp`, file);
}

/**
 * Writes cluster.json as version 2 (the envelope a draft leaves out is filled: a mesh, no
 * toxics) and returns what was written. Checked by the reader first: nothing the reader would
 * refuse is ever written.
 */
export function writeClusterFile(dir: string, value: ClusterFileDraft): ClusterFile {
  const path = clusterFilePath(dir);
  const file = parseClusterFile(completeClusterFile(value), path);
  writeJsonAtomic(path, file);
  return file;
}

export function removeClusterFile(dir: string): void {
  rmSync(clusterFilePath(dir), { force: true });
}

export interface NodeRecord {
  /** The setsid'ed rabbitmq-server wrapper: also the process group of everything the node runs. */
  wrapperPid?: number;
  /** beam.smp */
  pid?: number;
  /** netns: the epmd inside the namespace. */
  epmdPid?: number;
}

export interface StateFile {
  backend: BackendKind;
  settings: Pick<ResolvedOptions, 'addressBase' | 'namePrefix' | 'distPortBase' | 'epmdPort' | 'nsPrefix' | 'erlArgs' | 'nodes'> &
    Partial<Pick<ResolvedOptions, 'tls' | 'tlsMutual' | 'tlsDir' | 'topology' | 'maxMessageSize'>>;
  /** local: the epmd we started (absent when one was already running). */
  epmdPid?: number;
  /** netns: the bridge we created; docker: the network. */
  bridge?: string;
  nodes: Record<string, NodeRecord>;
}

/** What mirosnet recorded of the cluster in `dir`, or undefined when there is none; a file that does not parse is an error that says so. */
export function readState(dir: string): StateFile | undefined {
  const file = join(dir, STATE_FILE);
  if (!existsSync(file)) return undefined;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ClusterError(`cannot read ${file}: ${(err as Error).message}`, 'check its permissions (a cluster started as root is root\'s)');
  }
  try {
    return JSON.parse(text) as StateFile;
  } catch (err) {
    throw new ClusterError(
      `${file} is corrupt (${(err as Error).message}): the cluster's processes, namespaces or containers it recorded are unknown`,
      `stop what runs by hand (ps, ip netns, docker ps), then delete ${file} and start again: mirosnet cluster up`,
    );
  }
}

export function writeState(dir: string, state: StateFile): void {
  writeJsonAtomic(join(dir, STATE_FILE), state);
}

export function removeState(dir: string): void {
  rmSync(join(dir, STATE_FILE), { force: true });
}
