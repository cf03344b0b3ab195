// Probes: a TCP connect and the management API (no pooled sockets, so callers exit cleanly).
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { ensureAdminCredentials } from './admin-secret.ts';
import { caFileOf, endpoints } from './options.ts';
import type { Credentials, ResolvedOptions } from './types.ts';

/** 'open', or the error code of the failed connect ('ECONNREFUSED', 'EHOSTUNREACH', 'ETIMEDOUT', …). */
export function tcpProbe(host: string, port: number, timeoutMs = 1500): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (result: string) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => done('ETIMEDOUT'));
    socket.once('connect', () => done('open'));
    socket.once('error', (err: NodeJS.ErrnoException) => done(err.code ?? err.message));
  });
}

export interface HttpResult {
  status: number;
  body: string;
}

/** GET `url` (http or https; `ca`: the CA that must have signed an https server's certificate). */
export function httpGet(url: string, auth: Credentials | undefined, timeoutMs = 3000, ca?: string | Buffer): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const https = url.startsWith('https:');
    const req = (https ? httpsRequest : request)(
      url,
      {
        agent: false,
        ...(https && ca ? { ca } : {}),
        headers: auth ? { authorization: 'Basic ' + Buffer.from(`${auth.user}:${auth.password}`).toString('base64') } : {},
        timeout: timeoutMs,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.end();
  });
}

export interface Health {
  healthy: boolean;
  detail?: string;
}

/** How to reach a node's management API over HTTPS: the CA file its certificate is verified against. */
export interface HttpsCheck {
  caFile: string;
}

/**
 * Healthy = the AMQP port accepts connections and GET /api/overview as `auth` (the ops admin,
 * ops/cluster/admin.ts) answers 200 with this node's Erlang name (over HTTPS, verified against the CA, with `https`).
 */
export async function nodeHealth(auth: Credentials, host: string, erlangNode: string, amqpPort = 5672, managementPort = 15672, https?: HttpsCheck): Promise<Health> {
  const amqp = await tcpProbe(host, amqpPort);
  if (amqp !== 'open') return { healthy: false, detail: `AMQP ${host}:${amqpPort} ${amqp}` };
  try {
    const url = `${https ? 'https' : 'http'}://${host}:${managementPort}/api/overview`;
    const res = await httpGet(url, auth, 3000, https ? readFileSync(https.caFile) : undefined);
    if (res.status !== 200) return { healthy: false, detail: `management API answered HTTP ${res.status}` };
    const node = (JSON.parse(res.body) as { node?: string }).node;
    if (node !== erlangNode) return { healthy: false, detail: `management API reports node ${node}, expected ${erlangNode}` };
    return { healthy: true };
  } catch (err) {
    return { healthy: false, detail: `management API: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
  }
}

/** nodeHealth on the ports and scheme of the cluster's TLS mode (`o.tls`), as the cluster's ops admin. */
export function checkNode(o: Pick<ResolvedOptions, 'tls' | 'tlsDir' | 'dir'>, host: string, erlangNode: string): Promise<Health> {
  const e = endpoints(o.tls);
  return nodeHealth(ensureAdminCredentials(o.dir), host, erlangNode, e.amqpPort, e.managementPort, e.https ? { caFile: caFileOf(o.tlsDir) } : undefined);
}

/** Names registered with an epmd (EPMD NAMES_REQ), or undefined when none answers. */
export function epmdNames(host: string, port: number, timeoutMs = 1500): Promise<string[] | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const chunks: Buffer[] = [];
    let settled = false;
    const done = (v: string[] | undefined) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(v);
    };
    socket.setTimeout(timeoutMs, () => done(undefined));
    socket.once('connect', () => socket.write(Buffer.from([0, 1, 110])));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.once('end', () => {
      const text = Buffer.concat(chunks).subarray(4).toString('latin1');
      done([...text.matchAll(/^name (\S+) at port/gm)].map((m) => m[1]));
    });
    socket.once('error', () => done(undefined));
  });
}
