// Typed access, from a test, to the shared cluster test/setup/cluster.ts brought up.
import { inject } from 'vitest';
import type { ClusterFile } from '../../ops/cluster/types.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The shared cluster's cluster.json (also at $MIROS_CLUSTER_FILE). */
    cluster: ClusterFile;
  }
}

export function clusterInfo(): ClusterFile {
  return inject('cluster');
}
