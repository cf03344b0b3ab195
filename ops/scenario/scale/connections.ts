// AMQP connections as the brokers list them (/api/connections), attributed to processes:
// by the client-provided connection_name (`miros/<role> <program>[<pid>]@…`), else by the
// client's address and port, looked up among this machine's sockets (`ss -tnp`).
import { execFileSync } from 'node:child_process';
import { httpGet } from '../../cluster/health.ts';
import type { Credentials } from '../../cluster/types.ts';

export interface BrokerConnection {
  /** The broker's name for it ("127.0.0.1:40312 -> 127.0.8.11:5672"). */
  name: string;
  node: string;
  connectionName?: string;
  peerHost: string;
  peerPort: number;
}

interface ApiConnection {
  name: string;
  node: string;
  peer_host: string;
  peer_port: number;
  client_properties?: { connection_name?: string };
}

/** Every connection the brokers at `managementUrls` list (a cluster lists them all on each node: de-duplicated by name). */
export async function listConnections(managementUrls: string[], auth: Credentials): Promise<BrokerConnection[]> {
  const byName = new Map<string, BrokerConnection>();
  for (const url of managementUrls) {
    const res = await httpGet(`${url}/api/connections?columns=name,node,peer_host,peer_port,client_properties.connection_name`, auth).catch(() => undefined);
    if (!res || res.status !== 200) continue; // a node that is down lists nothing
    for (const c of JSON.parse(res.body) as ApiConnection[]) {
      byName.set(`${c.node} ${c.name}`, { name: c.name, node: c.node, connectionName: c.client_properties?.connection_name, peerHost: c.peer_host, peerPort: c.peer_port });
    }
  }
  return [...byName.values()];
}

/** "address:port" of every TCP socket on this machine → the pid that owns it (`ss -Htnp`). */
export function socketOwners(): Map<string, number> {
  const owners = new Map<string, number>();
  let out = '';
  try {
    out = execFileSync('ss', ['-Htnp'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  } catch {
    return owners; // no ss: connections are matched by name only
  }
  for (const line of out.split('\n')) {
    const cols = line.trim().split(/\s+/);
    const pid = /pid=(\d+)/.exec(line)?.[1];
    if (cols.length >= 5 && pid) owners.set(cols[3].replace(/^\[?::ffff:/, '').replace(/\]?(:\d+)$/, '$1'), Number(pid));
  }
  return owners;
}

export interface ConnectionCount {
  pid: number;
  connections: number;
  /** How they were attributed. */
  byName: number;
  byPort: number;
  names: string[];
}

/** Connections per pid among `pids`; what matches none of them is counted in `unmatched`. */
export function connectionsPerPid(conns: BrokerConnection[], pids: number[], owners: Map<string, number>): { perPid: Map<number, ConnectionCount>; unmatched: number } {
  const perPid = new Map<number, ConnectionCount>(pids.map((pid) => [pid, { pid, connections: 0, byName: 0, byPort: 0, names: [] }]));
  let unmatched = 0;
  for (const c of conns) {
    const named = c.connectionName ? Number(/\[(\d+)\]@/.exec(c.connectionName)?.[1]) : NaN;
    const pid = Number.isInteger(named) && perPid.has(named) ? named : owners.get(`${c.peerHost}:${c.peerPort}`);
    const entry = pid !== undefined ? perPid.get(pid) : undefined;
    if (!entry) {
      unmatched++;
      continue;
    }
    entry.connections++;
    if (pid === named) entry.byName++;
    else entry.byPort++;
    if (c.connectionName) entry.names.push(c.connectionName);
  }
  return { perPid, unmatched };
}
