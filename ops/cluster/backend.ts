// What a backend provides; the shared lifecycle (index.ts) does the rest.
import type { NodeRecord, StateFile } from './cluster-file.ts';
import type { NodeSpec } from './options.ts';
import type { ResolvedOptions } from './types.ts';

export interface Backend {
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
}
