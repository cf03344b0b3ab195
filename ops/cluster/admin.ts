// The ops code's broker administrator (issue 26): the app user (peter) is no administrator, so
// status, membership, fault injection and every other management-API call of the ops kit go
// through `opsAdmin(dir)`, whose user and generated password live 0600 in the cluster dir
// (admin-secret.ts).
import { readFileSync } from 'node:fs';
import { readAdminCredentials } from './admin-secret.ts';
import { readClusterFile } from './cluster-file.ts';
import { ClusterError } from './errors.ts';
import { type HttpResult, httpGet } from './health.ts';
import { defaultDir } from './options.ts';
import type { ClusterNode, Credentials } from './types.ts';

export { ADMIN_FILE, adminFilePath, ensureAdminCredentials } from './admin-secret.ts';

/** How the ops code reaches the brokers' management API as the administrator. */
export interface OpsAdmin {
  readonly credentials: Credentials;
  /** A node's management API base URL (cluster.json), by name, 1-based index or the node itself. */
  managementUrl(node: string | number | ClusterNode): string;
  /** The CA an https management API is verified against (`--tls only`), else undefined. */
  readonly ca: Buffer | undefined;
  /** GET `path` (e.g. `/api/connections`) on `node`'s management API as the administrator. */
  get(node: string | number | ClusterNode, path: string, timeoutMs?: number): Promise<HttpResult>;
}

/**
 * THE entry point for ops-side management API calls (status, membership, faults such as
 * drop-connections or alarms): the cluster in `dir`'s admin credentials and node URLs.
 * The credentials are read at once (a clear error when missing); cluster.json when a URL is asked for.
 */
export function opsAdmin(dir: string = defaultDir()): OpsAdmin {
  const credentials = readAdminCredentials(dir);
  const file = () => {
    const f = readClusterFile(dir);
    if (!f) throw new ClusterError(`no cluster is up in ${dir}`, 'start one: mirosnet cluster up');
    return f;
  };
  const managementUrl = (node: string | number | ClusterNode): string => {
    if (typeof node === 'object') return node.managementUrl;
    const f = file();
    const n = f.nodes.find((x) => (typeof node === 'number' ? x.index === node : x.name === node));
    if (!n) throw new ClusterError(`no node ${node} in ${dir}`, `use one of ${f.nodes.map((x) => x.name).join(', ')}`);
    return n.managementUrl;
  };
  let ca: Buffer | undefined | null = null;
  const caOf = (): Buffer | undefined => {
    if (ca === null) {
      const f = readClusterFile(dir);
      ca = f?.tls?.mode === 'only' ? readFileSync(f.tls.caFile) : undefined;
    }
    return ca;
  };
  return {
    credentials,
    managementUrl,
    get ca() {
      return caOf();
    },
    get: (node, path, timeoutMs = 3000) => {
      const url = managementUrl(node) + path;
      return httpGet(url, credentials, timeoutMs, url.startsWith('https:') ? caOf() : undefined);
    },
  };
}
