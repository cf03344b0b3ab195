// kill-node (registry): signal a node's broker (SIGKILL by default, through killBroker);
// heal restarts it, data kept (restart-broker).
import { openCluster } from '../cluster/index.ts';
import { killBroker, restartBroker } from './broker.ts';
import { type Fault, register } from './fault.ts';

export interface KillNodeParams {
  node: string | number;
  dir?: string;
  signal?: 'SIGKILL' | 'SIGTERM';
}

export function killNodeFault(p: KillNodeParams): Fault {
  return {
    name: 'kill-node',
    async apply() {
      const c = await openCluster({ dir: p.dir });
      const node = c.node(p.node);
      if (!(await c.backend.brokerPid(c.options, node))) return; // already down
      if ((p.signal ?? 'SIGKILL') === 'SIGKILL') await killBroker(node.name, { dir: p.dir });
      else await c.backend.signal(c.options, node, p.signal!);
    },
    async heal() {
      await restartBroker(p.node, { dir: p.dir });
    },
  };
}

register('kill-node', killNodeFault);
