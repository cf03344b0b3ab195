// A small private CA and per-host certificates for TLS on the wire (issue 15 item 4), made with
// the system `openssl` (Node can make keys but cannot sign X.509 certificates). Layout of a TLS
// directory, the same for the testbed (`cluster up --tls`) and for provisioning (ansible):
//
//   ca.pem   ca.key                       the CA (ca.key stays here: it signs, it never travels)
//   hosts/<host>/server.pem server.key    the broker's certificate (SAN: the host's address or name)
//   hosts/<host>/client.pem client.key    the instance's client certificate (mutual TLS)
//
// Keys are written 0600, certificates 0644, directories 0755 (the CA key's 0600 is what guards it).
// Idempotent: an existing CA and existing host certificates are kept (`force` re-makes the hosts').
import { execFile } from 'node:child_process';
import { randomBytes, X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { TlsError } from './errors.ts';

const run = promisify(execFile);

/** Default validity: the CA ten years, host certificates two (a testbed outlives neither). */
export const CA_DAYS = 3650;
export const HOST_DAYS = 825;

export interface TlsInitOptions {
  /** The TLS directory (created if missing). */
  dir: string;
  /** Hosts (IP addresses or DNS names) that get a server and a client certificate. */
  hosts: string[];
  /** Re-make the hosts' certificates even if present (the CA is never replaced). */
  force?: boolean;
  /** Host certificate validity in days (default HOST_DAYS). */
  days?: number;
  log?: (line: string) => void;
}

/** Where one host's files are. */
export interface HostFiles {
  host: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

export interface TlsMaterial {
  dir: string;
  caCert: string;
  caKey: string;
  hosts: HostFiles[];
  /** What this call made (paths), for the report. */
  made: string[];
}

export function caCertPath(dir: string): string {
  return join(resolve(dir), 'ca.pem');
}

export function hostFiles(dir: string, host: string): HostFiles {
  const d = join(resolve(dir), 'hosts', safeName(host));
  return { host, serverCert: join(d, 'server.pem'), serverKey: join(d, 'server.key'), clientCert: join(d, 'client.pem'), clientKey: join(d, 'client.key') };
}

/** Host names become directory names: IPv6 colons and anything unusual are replaced. */
function safeName(host: string): string {
  if (!/^[A-Za-z0-9.:_-]+$/.test(host) || host.startsWith('.')) {
    throw new TlsError(`invalid host '${host}' for a certificate`, 'give IP addresses or DNS names');
  }
  return host.replaceAll(':', '_');
}

async function openssl(args: string[], what: string): Promise<void> {
  try {
    await run('openssl', args, { timeout: 30_000 });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') {
      throw new TlsError('openssl is not installed: it makes the TLS certificates', 'install it (apt-get install openssl) and run the command again');
    }
    throw new TlsError(`openssl failed to ${what}`, 'see its message above', (e.stderr ?? e.message).trim());
  }
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** A random positive serial, so two CAs' certificates never share one. */
const serial = () => `0x${(randomBytes(15)[0] & 0x7f).toString(16).padStart(2, '0')}${randomBytes(14).toString('hex')}`;

function privateFile(path: string): void {
  chmodSync(path, 0o600);
}

/** Makes the CA unless `dir` has one; returns whether it was made. */
async function ensureCa(dir: string, log: (l: string) => void): Promise<boolean> {
  const cert = caCertPath(dir);
  const key = join(resolve(dir), 'ca.key');
  if (existsSync(cert) && existsSync(key)) return false;
  if (existsSync(cert) !== existsSync(key)) {
    throw new TlsError(`${dir} has only one of ca.pem and ca.key`, 'restore the missing one, or remove both to make a new CA (every host certificate must then be made again: --force)');
  }
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const id = randomBytes(4).toString('hex');
  await openssl(
    [
      'req', '-x509', ...EC_KEY, '-keyout', key, '-out', cert, '-days', String(CA_DAYS), '-set_serial', serial(),
      '-subj', `/O=miros-rabbitmq/CN=mirosnet CA ${id}`,
      '-addext', 'basicConstraints=critical,CA:TRUE,pathlen:0',
      '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    ],
    'make the CA',
  );
  privateFile(key);
  chmodSync(cert, 0o644);
  log(`tls: made CA ${cert} (mirosnet CA ${id})`);
  return true;
}

/** Signs one key pair for `host` with the CA: a server certificate or a client certificate. */
async function issue(dir: string, host: string, role: 'server' | 'client', certPath: string, keyPath: string, days: number): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'mirosnet-tls-'));
  try {
    const csr = join(work, 'req.csr');
    const ext = join(work, 'ext.cnf');
    const san = isIP(host) ? `IP:${host}` : `DNS:${host}`;
    // the broker's certificate names its address; a client's names the host it runs on (RabbitMQ
    // does not check it, but it tells the broker's log who connected)
    writeFileSync(
      ext,
      [
        'basicConstraints=critical,CA:FALSE',
        'keyUsage=critical,digitalSignature,keyEncipherment',
        `extendedKeyUsage=${role === 'server' ? 'serverAuth' : 'clientAuth'}`,
        `subjectAltName=${san}`,
        '',
      ].join('\n'),
    );
    const cn = role === 'server' ? host : `mirosnet client ${host}`;
    await openssl(['req', '-new', ...EC_KEY, '-keyout', keyPath, '-out', csr, '-subj', `/O=miros-rabbitmq/CN=${cn}`], `make the ${role} key of ${host}`);
    privateFile(keyPath);
    await openssl(
      ['x509', '-req', '-in', csr, '-CA', caCertPath(dir), '-CAkey', join(resolve(dir), 'ca.key'), '-set_serial', serial(), '-days', String(days), '-sha256', '-extfile', ext, '-out', certPath],
      `sign the ${role} certificate of ${host}`,
    );
    chmodSync(certPath, 0o644);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Is `cert` signed by the CA in `dir`, and does it still name `host`? (A re-made CA orphans old certificates.) */
function stillValid(dir: string, certPath: string, host: string): boolean {
  try {
    const ca = new X509Certificate(readFileSync(caCertPath(dir)));
    const cert = new X509Certificate(readFileSync(certPath));
    const names = isIP(host) ? cert.checkIP(host) : cert.checkHost(host);
    return cert.checkIssued(ca) && cert.verify(ca.publicKey) && names !== undefined && new Date(cert.validTo).getTime() > Date.now() + 86_400_000;
  } catch {
    return false;
  }
}

/**
 * Makes the CA (unless present) and, for every host, a server and a client certificate (unless
 * present, signed by this CA and still valid for more than a day). Needs `openssl` on PATH.
 */
export async function initTls(opts: TlsInitOptions): Promise<TlsMaterial> {
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const dir = resolve(opts.dir);
  const days = opts.days ?? HOST_DAYS;
  if (!Number.isInteger(days) || days < 1) throw new TlsError(`invalid validity ${days} days`, 'give a whole number of days ≥ 1');
  const made: string[] = [];
  if (await ensureCa(dir, log)) made.push(caCertPath(dir));
  const hosts = [...new Set(opts.hosts.map((h) => h.trim()).filter(Boolean))];
  const files: HostFiles[] = [];
  for (const host of hosts) {
    const f = hostFiles(dir, host);
    mkdirSync(join(f.serverCert, '..'), { recursive: true, mode: 0o755 });
    for (const role of ['server', 'client'] as const) {
      const [cert, key] = role === 'server' ? [f.serverCert, f.serverKey] : [f.clientCert, f.clientKey];
      if (!opts.force && existsSync(key) && existsSync(cert) && stillValid(dir, cert, host)) continue;
      await issue(dir, host, role, cert, key, days);
      made.push(cert);
    }
    files.push(f);
  }
  if (made.length > (made.includes(caCertPath(dir)) ? 1 : 0)) log(`tls: ${hosts.length} host${hosts.length === 1 ? '' : 's'} in ${dir}: ${made.length} certificate(s) made`);
  return { dir, caCert: caCertPath(dir), caKey: join(dir, 'ca.key'), hosts: files, made };
}
