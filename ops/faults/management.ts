// The management API as the faults use it (drop-connections, delete-queue, alarm's check):
// one request function, and ONE place that says with which credentials ops calls are made
// (opsCredentials): the cluster's ops administrator (ops/cluster/admin.ts), never the app user.
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { ClusterNode } from '../cluster/types.ts';
import type { ClusterHandle } from '../cluster/index.ts';
import { ClusterError } from '../cluster/errors.ts';
import { opsAdmin } from '../cluster/admin.ts';

export interface Credentials {
  user: string;
  password: string;
}

/** The credentials of every ops call to the management API: the ops administrator (peter is no administrator). */
export function opsCredentials(c: ClusterHandle): Credentials {
  return opsAdmin(c.dir).credentials;
}

/** One management API request to `node`; its JSON answer (undefined for an empty body). A status other than 2xx is a ClusterError naming it. */
export async function management(c: ClusterHandle, node: ClusterNode, method: 'GET' | 'PUT' | 'DELETE', path: string, timeoutMs = 10_000): Promise<unknown> {
  const url = `${node.managementUrl.replace(/\/$/, '')}${path}`;
  const auth = opsCredentials(c);
  const https = url.startsWith('https:');
  const ca = https && c.file.tls ? readFileSync(c.file.tls.caFile) : undefined;
  const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = (https ? httpsRequest : request)(
      url,
      {
        method,
        agent: false,
        ...(ca ? { ca } : {}),
        headers: { authorization: 'Basic ' + Buffer.from(`${auth.user}:${auth.password}`).toString('base64') },
        timeout: timeoutMs,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err) => reject(new ClusterError(`${method} ${url}: ${err.message}`, `is ${node.name}'s broker up? mirosnet cluster status`)));
    req.end();
  });
  if (status < 200 || status > 299) throw new ClusterError(`${method} ${url} answered HTTP ${status}: ${body.slice(0, 200)}`, status === 401 ? `the ops user ${auth.user} is not allowed there` : undefined);
  return body ? (JSON.parse(body) as unknown) : undefined;
}
