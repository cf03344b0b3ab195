// A cluster.json as ops/cluster writes it (clusterNode builds each entry, completeClusterFile
// the version 2 envelope), for the lan tests.
import { CREDENTIALS, clusterNode } from '../../ops/cluster/options.ts';
import { completeClusterFile, type ClusterFile } from '../../runtime/lan/cluster-file.ts';

export function clusterFixture(hosts: string[]): ClusterFile {
  const nodes = hosts.map((host, i) => {
    const name = `n${i + 1}`;
    return clusterNode(
      { name, index: i + 1, host, erlangNode: `${name}@localhost`, distPort: 25681 + i, dataDir: `/srv/${name}/data`, logFile: `/srv/${name}/log/rabbit.log` },
      1000 + i,
    );
  });
  return completeClusterFile({ backend: 'local', createdAt: '2026-01-01T00:00:00.000Z', credentials: { ...CREDENTIALS }, nodes });
}
