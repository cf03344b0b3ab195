// A testbed client's TLS settings, from cluster.json's `tls`: the cluster's CA, and with mutual
// TLS the client certificate of the host the client runs beside (`mirosnet tls init` layout).
import type { ClusterFile } from '../../runtime/lan/index.ts';
import type { TlsOptions } from '../../runtime/net/tls.ts';
import { hostFiles } from './certificates.ts';

/** PEM paths for a client on `host`, or undefined when the cluster has no TLS. */
export interface ClientTlsFiles {
  ca: string;
  cert?: string;
  key?: string;
}

export function clientTlsFiles(cluster: ClusterFile, host: string): ClientTlsFiles | undefined {
  if (!cluster.tls) return undefined;
  if (!cluster.tls.mutual) return { ca: cluster.tls.caFile };
  const f = hostFiles(cluster.tls.dir, host);
  return { ca: cluster.tls.caFile, cert: f.clientCert, key: f.clientKey };
}

/** The same as library options (rabbitTls, rabbitTlsCa, …). */
export function clientTlsOptions(cluster: ClusterFile, host: string): TlsOptions | undefined {
  const t = clientTlsFiles(cluster, host);
  return t && { rabbitTls: true, rabbitTlsCa: t.ca, rabbitTlsCert: t.cert, rabbitTlsKey: t.key };
}
