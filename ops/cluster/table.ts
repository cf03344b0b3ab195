// The table `up` and `status` print.
import { formatColumns } from '../util/columns.ts';
import type { ClusterStatus, NodeMembership } from './types.ts';

export function formatTable(s: ClusterStatus): string {
  if (!s.up) return `no cluster is up in ${s.dir}  (start one: mirosnet cluster up)`;
  const clustered = s.topology === 'clustered';
  const rows = [
    ['NODE', 'AMQP URL', 'MANAGEMENT URL', 'METRICS', 'STATE', 'PID', 'RSS', ...(clustered ? ['CLUSTER'] : [])],
    ...s.nodes.map((n) => [
      n.node.name,
      n.node.amqpUrl,
      n.node.managementUrl,
      n.node.prometheusPort ? `http://${n.node.host}:${n.node.prometheusPort}/metrics` : '-',
      n.healthy ? n.state : `${n.state}${n.detail ? ` (${n.detail})` : ''}`,
      String(n.node.pid || '-'),
      n.rssMb ? `${Math.round(n.rssMb)} MB` : '-',
      ...(clustered ? [clusterColumn(n.membership, s.cluster?.members.length ?? 0)] : []),
    ]),
  ];
  const healthy = s.nodes.filter((n) => n.healthy).length;
  const topology = s.cluster ? ` · clustered (${s.cluster.members.length} member${s.cluster.members.length === 1 ? '' : 's'}, ${s.cluster.partitionHandling}, net_ticktime ${s.cluster.netTicktime} s)` : '';
  return [formatColumns(rows), `${healthy}/${s.nodes.length} healthy · backend ${s.backend}${topology} · ${s.dir}`].join('\n');
}

/** A node's view of its cluster: "3/3 running", "2/3 running, partitioned from rabbit@…". */
function clusterColumn(m: NodeMembership | undefined, members: number): string {
  if (!m) return '-';
  const parts = [`${m.running.length}/${members} running`];
  if (m.partitions.length) parts.push(`partitioned from ${m.partitions.join(' ')}`);
  return parts.join(', ');
}
