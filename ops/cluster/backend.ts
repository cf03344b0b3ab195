// The backend primitives (docs/design/links-and-backends.md §4): one interface for the
// cluster's lifecycle, faults and scenarios. Three implementations: local.ts, netns.ts
// (their node processes share the lifecycle of nodes.ts) and docker.ts (containers).
// What a backend cannot do throws UnsupportedError (the CLI exits 2), with the reason.
import type { Readable, Writable } from 'node:stream';
import type { NodeRecord, StateFile } from './cluster-file.ts';
import type { NodeSpec } from './options.ts';
import type { BackendKind, ClusterFile, ClusterNode, ClusterStatus, ResolvedOptions, StoppedCluster } from './types.ts';

export type NodeSignal = 'SIGTERM' | 'SIGKILL' | 'SIGSTOP' | 'SIGCONT';
/** clock: a program run under faketime (exec's prefix), for a clock stepped back. */
export type Primitive = 'signal' | 'restart' | 'exec' | 'partition' | 'isolate' | 'toxify' | 'clock';
/** true, or why not (→ UnsupportedError → exit 2). */
export type Support = true | { reason: string };

/** A process run on a node's host by `exec`: its pipes, its exit, and a way to signal it. */
export interface HostProcess {
  /** This machine's pid of what was spawned (`ip netns exec`, `docker run`, or the program itself). */
  readonly pid: number;
  /** The address of the host it runs on (its broker's). */
  readonly host: string;
  readonly stdin: Writable;
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** Its exit status; -1 when a signal ended it. */
  readonly exited: Promise<number>;
  /** Signals the program itself (in its container, on docker). */
  kill(sig?: NodeJS.Signals): void;
}

/** One network namespace of a host: how to run a command in it, its address, a name for messages. */
export interface HostMember {
  enter: string[];
  address: string;
  label: string;
}

export interface ExecOptions {
  /** Added to the program's environment (on docker: the only environment it gets besides the image's). */
  env?: Record<string, string>;
  /** A label for logs and container names. */
  name?: string;
  /** Directories of this machine the program reads or writes, at the same path (docker: bind mounts; elsewhere they are simply there). */
  mounts?: string[];
  /** A command the program runs under (e.g. faketime -f -30m): local and netns only (capability clock). */
  prefix?: string[];
}

/**
 * A program to run on a host. `module` is a path inside the package (e.g.
 * 'dist/ops/instances/peer.js'), run with Node where the package lives: the package root
 * on this machine (local, netns), /app/node_modules/miros-rabbitmq in the instance image
 * (docker). `file`: an absolute path, of whatever program (local, netns only: a container cannot see it).
 */
export type Program = { module: string; args?: string[] } | { file: string; args?: string[] };

/** What `down` removes besides the nodes and what the backend made for them. */
export interface DownHow {
  /** Every backend: the nodes' data and logs, and the testbed's records (node-data.ts purgeTestbedFiles). */
  purge: boolean;
  /** Docker: the broker image too (the next up builds it again). */
  removeImages: boolean;
}

export interface Backend {
  readonly kind: BackendKind;
  // lifecycle (the caller holds the dir lock; `state` is state.json, if any)
  up(o: ResolvedOptions, state: StateFile | undefined): Promise<ClusterFile>;
  down(o: ResolvedOptions, state: StateFile | undefined, file: ClusterFile | undefined, how: DownHow): Promise<StoppedCluster>;
  status(o: ResolvedOptions, state: StateFile | undefined, file: ClusterFile | undefined): Promise<ClusterStatus>;
  /** Which primitives work here, and why the others do not. */
  capabilities(o: ResolvedOptions): Record<Primitive, Support>;
  /** Signals the node's broker (its beam.smp; docker: the container, STOP/CONT = pause/unpause). */
  signal(o: ResolvedOptions, node: ClusterNode, sig: NodeSignal): Promise<void>;
  /** Stops the broker if it runs and starts it again, data kept; resolves once it is healthy. */
  restart(o: ResolvedOptions, node: ClusterNode): Promise<void>;
  /** Runs `program` on the node's host: local = on this machine, netns = in its namespace, docker = in a container of the instance image. */
  exec(o: ResolvedOptions, node: ClusterNode, program: Program, opts?: ExecOptions): Promise<HostProcess>;
  /** Runs `rabbitmqctl -n NODE args` against the node's broker (its host, its container); its output. */
  rabbitmqctl(o: ResolvedOptions, node: ClusterNode, args: string[]): Promise<string>;
  /** The pid of the node's broker process (beam.smp; docker: the container's init), if it runs. */
  brokerPid(o: ResolvedOptions, node: ClusterNode): Promise<number | undefined>;
  /** Runs a command inside the node host's network namespace (for nft and tc); throws UnsupportedError where there is none. */
  inNetns(o: ResolvedOptions, node: ClusterNode): Promise<string[]>;
  /**
   * Every network namespace of the node's host and its address: netns, the host's one; docker,
   * the broker's container and the containers `exec` started for that host (their own addresses).
   * A cut of the host is a cut in each of them.
   */
  hostMembers(o: ResolvedOptions, node: ClusterNode): Promise<HostMember[]>;
  /** This machine's address on the hosts' network (netns, docker), for isolate. */
  machineAddress(o: ResolvedOptions): string | undefined;
}

/** What a node-process backend (local, netns) adds to the shared lifecycle of nodes.ts. */
export interface NodeHost {
  readonly kind: 'local' | 'netns';
  /** Before any node starts: cookie, epmd (local), bridge (netns). Records what it made in `state`. */
  prepare(o: ResolvedOptions, state: StateFile): Promise<void>;
  /** Writes the node's config and spawns it; returns the pid of the setsid'ed server wrapper. */
  start(o: ResolvedOptions, spec: NodeSpec, rec: NodeRecord): Promise<number>;
  /** After the node's server has stopped, when the node leaves the cluster (N shrinks). */
  removeNode?(o: ResolvedOptions, spec: NodeSpec, rec: NodeRecord): Promise<void>;
  /** After every node stopped: removes everything else `prepare` and `start` made. */
  teardown(o: ResolvedOptions, state: StateFile | undefined): Promise<void>;
  /** netns: is the host cut off (its link down)? */
  partitioned?(o: ResolvedOptions, spec: NodeSpec): Promise<boolean>;
  setLink?(o: ResolvedOptions, spec: NodeSpec, up: boolean): Promise<void>;
  /** The command prefix that runs a program on the host (netns: ip netns exec NS). */
  wrap(spec: NodeSpec): string[];
}
