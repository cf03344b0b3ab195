// Defaults and per-node derivation (names, addresses, ports, paths).
import { join, resolve } from 'node:path';
import { amqpUrl } from '../../runtime/net/config.ts';
import { PACKAGE_ROOT } from '../package-root.ts';
import { ClusterError } from './errors.ts';
import { caCertPath, hostFiles } from '../tls/certificates.ts';
import { DEFAULT_MAX_MESSAGE_SIZE } from '../rabbit-config/users.ts';
import type { BackendKind, ClusterNode, ClusterOptions, ClusterTls, Credentials, ResolvedOptions, TlsMode } from './types.ts';

/**
 * The package root: where compose/ and the other shipped files are (never where state goes).
 * Found by its package.json, so it is right from ops/ and from dist/ops/ alike.
 */
export const REPO_ROOT = PACKAGE_ROOT;
/** The state directory's default name, in the current working directory. */
export const DEFAULT_DIR = '.cluster';
export const CREDENTIALS: Credentials = { user: 'peter', password: 'rabbit' };
export const AMQP_PORT = 5672;
export const MANAGEMENT_PORT = 15672;
/** rabbitmq_prometheus: GET /metrics on every node (plain HTTP). */
export const PROMETHEUS_PORT = 15692;
/** With --tls: AMQP over TLS; with --tls only, the management API on HTTPS. */
export const AMQPS_PORT = 5671;
export const MANAGEMENT_TLS_PORT = 15671;
/**
 * Extra emulator flags. Schedulers unbound (+stbt u): RabbitMQ binds them to cores
 * (+stbt db), so every node's scheduler 1 fights over CPU 0; unbound, three nodes
 * start in ~10 s instead of ~18 s on two cores (bench/cluster.ts).
 */
export const DEFAULT_ERL_ARGS = '+stbt u';

/**
 * $MIROS_CLUSTER_DIR, else `.cluster` in the current working directory. Never relative to
 * this module: installed, that would put the state inside node_modules.
 */
export function defaultDir(): string {
  return resolve(process.env.MIROS_CLUSTER_DIR || DEFAULT_DIR);
}

export function parseTlsMode(value: string | boolean | undefined): TlsMode {
  const v = value === true ? 'on' : value === false || value === undefined ? 'off' : value;
  if (v === 'off' || v === 'on' || v === 'only') return v;
  throw new ClusterError(`unknown TLS mode '${v}'`, 'use --tls on or --tls only (or leave it out: off)');
}

export function parseBackend(value: string | undefined): BackendKind {
  const b = value ?? 'local';
  if (b === 'local' || b === 'netns' || b === 'docker') return b;
  throw new ClusterError(`unknown backend '${b}'`, 'use --backend local, netns or docker');
}

/** Options as given, over stored settings of a running cluster, over defaults. */
export function resolveOptions(opts: ClusterOptions = {}, stored: Partial<ResolvedOptions> = {}): ResolvedOptions {
  const backend = parseBackend(opts.backend ?? stored.backend);
  const nodes = opts.nodes ?? stored.nodes ?? 3;
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > 40) {
    throw new ClusterError(`invalid node count ${nodes}`, 'give --nodes a whole number from 1 to 40');
  }
  const topology = opts.topology ?? stored.topology ?? 'mesh';
  if (topology !== 'mesh' && topology !== 'clustered') throw new ClusterError(`unknown topology '${String(topology)}'`, 'use --topology mesh or clustered');
  const r: ResolvedOptions = {
    nodes,
    backend,
    topology,
    dir: resolve(opts.dir ?? defaultDir()),
    addressBase: opts.addressBase ?? stored.addressBase ?? (backend === 'netns' ? '10.77.0.11' : backend === 'docker' ? '10.78.0.11' : '127.0.0.11'),
    namePrefix: opts.namePrefix ?? stored.namePrefix ?? 'n',
    distPortBase: opts.distPortBase ?? stored.distPortBase ?? 25680,
    epmdPort: opts.epmdPort ?? stored.epmdPort ?? 4369,
    nsPrefix: opts.nsPrefix ?? stored.nsPrefix ?? 'mrn',
    erlArgs: opts.erlArgs ?? stored.erlArgs ?? DEFAULT_ERL_ARGS,
    startTimeoutMs: opts.startTimeoutMs ?? 180_000,
    tls: parseTlsMode(opts.tls ?? stored.tls),
    tlsMutual: opts.tlsMutual ?? stored.tlsMutual ?? false,
    tlsDir: '',
    log: opts.log ?? ((line) => process.stderr.write(line + '\n')),
    maxMessageSize: opts.maxMessageSize ?? stored.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE,
    keepData: opts.keepData ?? false, // not stored: it is about this `up` only
  };
  // RabbitMQ's own ceiling is 512 MiB
  if (!Number.isInteger(r.maxMessageSize) || r.maxMessageSize < 1 || r.maxMessageSize > 536_870_912) {
    throw new ClusterError(`invalid maximum message size ${r.maxMessageSize}`, 'give --max-message-size a whole number of bytes from 1 to 536870912');
  }
  r.tlsDir = resolve(opts.tlsDir ?? stored.tlsDir ?? join(r.dir, 'tls'));
  if (r.tlsMutual && r.tls === 'off') throw new ClusterError('mutual TLS needs TLS', 'add --tls on or --tls only');
  if (!/^[a-z][a-z0-9]*$/.test(r.namePrefix)) {
    throw new ClusterError(`invalid node name prefix '${r.namePrefix}'`, 'use lower-case letters and digits');
  }
  if (!/^[a-z][a-z0-9]{0,7}$/.test(r.nsPrefix)) {
    throw new ClusterError(`invalid namespace prefix '${r.nsPrefix}'`, 'use 1–8 lower-case letters and digits');
  }
  hostAddress(r, r.nodes); // validates the address range
  return r;
}

/** Address of node i: the last octet of addressBase + (i - 1). */
export function hostAddress(o: Pick<ResolvedOptions, 'addressBase'>, index: number): string {
  const parts = o.addressBase.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new ClusterError(`invalid address '${o.addressBase}'`, 'give the first node address as a.b.c.d');
  }
  const last = parts[3] + index - 1;
  if (last > 254) {
    throw new ClusterError(`node ${index} would need address ${parts.slice(0, 3).join('.')}.${last}`, 'use fewer nodes or a lower first address');
  }
  return [...parts.slice(0, 3), last].join('.');
}

/** Internal per-node description: cluster.json fields plus paths and ports. */
export interface NodeSpec {
  name: string;
  index: number;
  host: string;
  erlangNode: string;
  distPort: number;
  nodeDir: string;
  dataDir: string;
  logFile: string;
  stdoutFile: string;
  pidFile: string;
  /** netns backend: the namespace this host lives in. */
  ns?: string;
}

export function nodeSpec(o: ResolvedOptions, index: number): NodeSpec {
  const name = `${o.namePrefix}${index}`;
  const host = hostAddress(o, index);
  const nodeDir = join(o.dir, name);
  return {
    name,
    index,
    host,
    erlangNode: o.backend === 'netns' ? `rabbit@${host}` : `${name}@localhost`,
    distPort: o.backend === 'netns' ? 25672 : o.distPortBase + index,
    nodeDir,
    dataDir: join(nodeDir, 'data'),
    logFile: join(nodeDir, 'log', 'rabbit.log'),
    stdoutFile: join(nodeDir, 'stdout.log'),
    pidFile: join(nodeDir, 'beam.pid'),
    ns: o.backend === 'netns' ? `${o.nsPrefix}-${index}` : undefined,
  };
}

/** What clients dial under a TLS mode: AMQP (5672, or 5671 with TLS) and the management API (HTTPS on 15671 with `only`). */
export function endpoints(tls: TlsMode): { amqpPort: number; managementPort: number; https: boolean } {
  return { amqpPort: tls === 'off' ? AMQP_PORT : AMQPS_PORT, managementPort: tls === 'only' ? MANAGEMENT_TLS_PORT : MANAGEMENT_PORT, https: tls === 'only' };
}

export function managementUrl(host: string, tls: TlsMode = 'off'): string {
  const e = endpoints(tls);
  return `${e.https ? 'https' : 'http'}://${host}:${e.managementPort}`;
}

export const caFileOf = (tlsDir: string): string => caCertPath(tlsDir);

/** cluster.json's `tls`, or undefined when TLS is off. */
export function clusterTls(o: Pick<ResolvedOptions, 'tls' | 'tlsDir' | 'tlsMutual'>): ClusterTls | undefined {
  if (o.tls === 'off') return undefined;
  return { mode: o.tls, caFile: caCertPath(o.tlsDir), dir: o.tlsDir, mutual: o.tlsMutual };
}

/** A broker's TLS listener settings (rabbit.ts writes them into its config), or undefined when TLS is off. */
export interface BrokerTls {
  mode: Exclude<TlsMode, 'off'>;
  caFile: string;
  certFile: string;
  keyFile: string;
  mutual: boolean;
}

export function brokerTls(o: Pick<ResolvedOptions, 'tls' | 'tlsDir' | 'tlsMutual'>, host: string): BrokerTls | undefined {
  if (o.tls === 'off') return undefined;
  const f = hostFiles(o.tlsDir, host);
  return { mode: o.tls, caFile: caCertPath(o.tlsDir), certFile: f.serverCert, keyFile: f.serverKey, mutual: o.tlsMutual };
}

/** What a backend knows of a node when it writes its cluster.json entry. */
export interface NodeEntry {
  name: string;
  index: number;
  host: string;
  erlangNode: string;
  /** null where the backend does not set it (docker: the image's default): never guessed. */
  distPort: number | null;
  dataDir: string;
  logFile: string;
  /** netns: the node's namespace (NodeSpec's `ns`). */
  ns?: string;
  /** docker: the node's container. */
  container?: string;
}

/** A node's cluster.json entry (version 2): the same shape for every backend, keys in the documented order. */
export function clusterNode(n: NodeEntry, pid: number, tls: TlsMode = 'off'): ClusterNode {
  const e = endpoints(tls);
  return {
    name: n.name,
    index: n.index,
    host: n.host,
    amqpPort: e.amqpPort,
    managementPort: e.managementPort,
    amqpUrl: amqpUrl({ rabbitUser: CREDENTIALS.user, rabbitPassword: CREDENTIALS.password, rabbitPort: e.amqpPort, tls: tls !== 'off' }, n.host),
    managementUrl: managementUrl(n.host, tls),
    prometheusPort: PROMETHEUS_PORT,
    erlangNode: n.erlangNode,
    distPort: n.distPort,
    pid,
    namespace: n.ns ?? null,
    container: n.container ?? null,
    dataDir: n.dataDir,
    logFile: n.logFile,
  };
}
