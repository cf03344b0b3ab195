// kill-node (registry): signal a node's beam (SIGKILL by default, through killBroker);
// heal brings dead nodes back with `up` (its idempotence), as before.
import { locateNode, up } from '../cluster/index.ts';
import { signal } from '../cluster/process.ts';
import { killBroker } from './broker.ts';
import { type Fault, register } from './fault.ts';

export interface KillNodeParams {
  node: string | number;
  dir?: string;
  signal?: NodeJS.Signals;
}

export function killNodeFault(p: KillNodeParams): Fault {
  return {
    name: 'kill-node',
    async apply() {
      const { node } = locateNode(p.node, { dir: p.dir });
      if (!node.beam) return; // already down
      if ((p.signal ?? 'SIGKILL') === 'SIGKILL') await killBroker(node.name, { dir: p.dir });
      else signal(node.beam, p.signal!);
    },
    async heal() {
      await up({ dir: p.dir, log: () => {} });
    },
  };
}

register('kill-node', killNodeFault);
