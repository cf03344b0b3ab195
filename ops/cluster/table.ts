// The table `up` and `status` print.
import { formatColumns } from '../util/columns.ts';
import type { ClusterStatus } from './types.ts';

export function formatTable(s: ClusterStatus): string {
  if (!s.up) return `no cluster is up in ${s.dir}  (start one: mirosnet cluster up)`;
  const rows = [
    ['NODE', 'AMQP URL', 'MANAGEMENT URL', 'STATE', 'PID', 'RSS'],
    ...s.nodes.map((n) => [
      n.node.name,
      n.node.amqpUrl,
      n.node.managementUrl,
      n.healthy ? n.state : `${n.state}${n.detail ? ` (${n.detail})` : ''}`,
      String(n.node.pid || '-'),
      n.rssMb ? `${Math.round(n.rssMb)} MB` : '-',
    ]),
  ];
  const healthy = s.nodes.filter((n) => n.healthy).length;
  return [formatColumns(rows), `${healthy}/${s.nodes.length} healthy · backend ${s.backend} · ${s.dir}`].join('\n');
}
