// partition: cut a netns host off its bridge (link down); heal brings it back.
import { heal, partition } from '../cluster/index.ts';
import { type Fault, register } from './fault.ts';

export interface PartitionParams {
  /** 'n2', 2, or the host's address. */
  node: string | number;
  /** Cluster dir (default ./.cluster in the current directory). */
  dir?: string;
}

export function partitionFault(p: PartitionParams): Fault {
  return {
    name: 'partition',
    apply: () => partition(p.node, { dir: p.dir }),
    heal: () => heal(p.node, { dir: p.dir }),
  };
}

register('partition', partitionFault);
