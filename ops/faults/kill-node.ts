// kill-node: signal a node's beam (SIGKILL by default); heal restarts it with `up`.
import { ClusterError, status, up } from '../cluster/index.ts';
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
      const s = await status({ dir: p.dir });
      const n = s.nodes.find((x) => x.node.name === String(p.node) || x.node.index === Number(p.node) || x.node.host === p.node);
      if (!n) throw new ClusterError(`no node '${p.node}' in ${s.dir}`, 'see: mirosnet cluster status');
      if (n.state !== 'down') process.kill(n.node.pid, p.signal ?? 'SIGKILL');
    },
    async heal() {
      await up({ dir: p.dir, log: () => {} });
    },
  };
}

register('kill-node', killNodeFault);
