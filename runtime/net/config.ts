// Resolves the networked layer's settings. Sources, first wins: explicit options, then the
// process environment, then a `.env` file (read with dotenv.parse; process.env is never changed).
// Environment names are the reference's (miros-rabbitmq's `.env` contract).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { readClusterFile } from '../lan/cluster-file.ts';
import { ConfigError } from './errors.ts';
import { parseKeyList, type KeyListInput } from './key-ring.ts';
import { AMQP_PORT } from '../lan/ports.ts';
import { AMQPS_PORT, resolveTlsConfig, type TlsConfig, type TlsOptions } from './tls.ts';

/** TLS settings (rabbitTls, rabbitTlsCa, …): tls.ts. */
export interface NetOptions extends TlsOptions {
  rabbitUser?: string;
  rabbitPassword?: string;
  rabbitPort?: number;
  /** Seconds (the reference's RABBIT_HEARTBEAT_INTERVAL; default 10, the reference's 3600); 0 disables heartbeats. */
  heartbeatInterval?: number;
  /**
   * Attempts to reach a broker before giving up on the first connect (pika's
   * `connection_attempts`, env CONNECTION_ATTEMPTS; default 3): startAt rejects with
   * BrokerUnreachableError once its own broker has refused this many times, even before
   * startTimeoutMs. Links to other hosts' brokers keep retrying in the background.
   */
  connectionAttempts?: number;
  /**
   * A key, or a list (an array, or comma-separated in the environment / `.env`) for rotation:
   * the first key encrypts, every key decrypts (key-ring.ts, the model of Python's MultiFernet).
   */
  meshEncryptionKey?: KeyListInput;
  snoopTraceEncryptionKey?: KeyListInput;
  snoopSpyEncryptionKey?: KeyListInput;
  txRoutingKey?: string;
  rxRoutingKey?: string;
  /** Explicit broker hosts (IPs or names), the most trusted discovery source. */
  hosts?: string[];
  /** JSON `{"hosts": [...]}`; default `.miros_rabbitmq_hosts.json` in cwd, used only if it exists. */
  hostsFile?: string;
  /** Scan the ARP table and AMQP-probe what it lists. Default false (see README: opt in on a real LAN). */
  arp?: boolean;
  /** Hosts found by earlier scans; default `.miros_rabbitmq_lan_cache.json` in cwd. */
  cacheFile?: string;
  cacheMaxAgeMinutes?: number;
  /** This host's address; default: the address of the interface that routes to the other hosts. */
  thisAddress?: string;
  /** The local testbed's `.cluster/cluster.json`, read as a hosts source. */
  clusterFile?: string;
  /** How long `startAt` waits for the networks to come up. */
  startTimeoutMs?: number;
  /** Events held per unreachable broker before OutboxOverflowError. */
  outboxBound?: number;
  /**
   * Events unconfirmed on the wire per broker link (default 256, docs/flow-control.md). What
   * one fault can make a link resend; more wait in the outbox (up to outboxBound).
   */
  maxInFlight?: number;
  /**
   * Mesh: a link to another host's broker that has been down this long (ms) while discovery
   * no longer lists the host is closed, its held events counted as drops ('departed');
   * default 120000, 0 = never (docs/flow-control.md).
   */
  departedLinkMs?: number;
  /**
   * Milliseconds an event may wait in a chart's queue before the broker expires it (env
   * MIROS_MESSAGE_TTL_MS; default 50000, the reference's). Expired events are dead-lettered
   * and counted (networkStats(): droppedBy.expired), never lost silently.
   */
  messageTtl?: number;
  /**
   * Milliseconds a chart's queues outlive it unused (the broker's x-expires; default 600000,
   * 10 minutes): a chart stopped with stop(), or crashed, and restarted within it gets every
   * event sent meanwhile (as long as each is younger than messageTtl). leave() deletes them.
   */
  queueExpiresMs?: number;
  /**
   * 'mesh' (default): a broker per host, each event published to every broker (the reference).
   * 'clustered': one RabbitMQ cluster; connect to one member (this host's first), fail over to
   * the others, publish each event once, consume from quorum queues. Env MIROS_TOPOLOGY;
   * unset, the cluster file's topology is used.
   */
  topology?: Topology;
  /** Names this process in the broker's connection list (default: the script's file name). */
  processName?: string;
}

export type Topology = 'mesh' | 'clustered';

export type ConfigSource = 'option' | 'env' | 'dotenv' | 'default';

export interface NetConfig {
  rabbitUser: string;
  rabbitPassword: string;
  rabbitPort: number;
  heartbeatInterval: number;
  connectionAttempts: number;
  /** The encrypting (first) key of each network, in canonical padded url-safe base64. */
  meshEncryptionKey: string;
  snoopTraceEncryptionKey: string;
  snoopSpyEncryptionKey: string;
  /** Each network's whole key list (canonical), encrypting key first. */
  encryptionKeys: { mesh: string[]; trace: string[]; spy: string[] };
  txRoutingKey: string;
  rxRoutingKey: string;
  hosts: string[];
  /** Absolute path. */
  hostsFile: string;
  /** False when hostsFile is the default path: a missing file is then not an error. */
  hostsFileRequired: boolean;
  arp: boolean;
  /** Absolute path. */
  cacheFile: string;
  cacheMaxAgeMinutes: number;
  thisAddress?: string;
  /** Absolute path. */
  clusterFile?: string;
  startTimeoutMs: number;
  outboxBound: number;
  maxInFlight: number;
  departedLinkMs: number;
  messageTtl: number;
  queueExpiresMs: number;
  topology: Topology;
  processName: string;
  /** TLS on the wire (amqps://), or undefined when off (tls.ts). */
  tls?: TlsConfig;
  /** Where each of the reference's settings came from (for diagnostics; never holds values). */
  sources: Record<string, ConfigSource>;
}

export const DEFAULTS = {
  rabbitPort: AMQP_PORT,
  // Deliberately not the reference's 3600 s: with it a silently cut link (a stalled or
  // SIGSTOPped broker, a dropped route: TCP stays open) went unnoticed for two hours.
  // 10 s notices it within two intervals (~20 s). An option or RABBIT_HEARTBEAT_INTERVAL still wins.
  heartbeatInterval: 10,
  connectionAttempts: 3,
  txRoutingKey: 'empty',
  hostsFile: '.miros_rabbitmq_hosts.json',
  cacheFile: '.miros_rabbitmq_lan_cache.json',
  cacheMaxAgeMinutes: 30,
  startTimeoutMs: 30_000,
  outboxBound: 10_000,
  maxInFlight: 256,
  departedLinkMs: 120_000,
  messageTtl: 50_000,
  queueExpiresMs: 10 * 60_000,
  topology: 'mesh',
} as const;

/** Option name → environment variable, in the reference's order of checking. */
export const ENV_NAMES = {
  rabbitPassword: 'RABBIT_PASSWORD',
  rabbitUser: 'RABBIT_USER',
  rabbitPort: 'RABBIT_PORT',
  heartbeatInterval: 'RABBIT_HEARTBEAT_INTERVAL',
  connectionAttempts: 'CONNECTION_ATTEMPTS',
  meshEncryptionKey: 'MESH_ENCRYPTION_KEY',
  snoopTraceEncryptionKey: 'SNOOP_TRACE_ENCRYPTION_KEY',
  snoopSpyEncryptionKey: 'SNOOP_SPY_ENCRYPTION_KEY',
  messageTtl: 'MIROS_MESSAGE_TTL_MS',
  topology: 'MIROS_TOPOLOGY',
} as const;
type EnvOption = keyof typeof ENV_NAMES;

interface Found {
  value: unknown;
  source: ConfigSource;
  /** What to call the value in an error: the option name or the environment variable. */
  name: string;
  where: string;
}

/**
 * Resolves every setting, or throws ConfigError naming the option and environment variable
 * that is missing or malformed. `opts.dotenvPath`: the `.env` file to read (default `.env` in cwd,
 * skipped if absent); `false` reads none. `opts.cwd`: the directory that relative paths and the
 * default `.env` are resolved against (default process.cwd()).
 */
export function resolveNetConfig(
  options: NetOptions,
  env: NodeJS.ProcessEnv = process.env,
  opts: {
    dotenvPath?: string | false;
    cwd?: string;
    /**
     * False for a snoop-only listener: it never joins the mesh, so a missing mesh key is
     * fine when a snoop key is set (each snoop key then falls back to the other one).
     */
    meshKeyRequired?: boolean;
  } = {},
): NetConfig {
  const cwd = path.resolve(opts.cwd ?? process.cwd());
  const dotenvPath = opts.dotenvPath === false ? undefined : path.resolve(cwd, opts.dotenvPath ?? '.env');
  let dotenv: Record<string, string> = {};
  if (dotenvPath !== undefined) {
    if (existsSync(dotenvPath)) {
      dotenv = parseDotenv(readFileSync(dotenvPath));
    } else if (opts.dotenvPath !== undefined) {
      throw new ConfigError('', `.env file not found: ${dotenvPath}`);
    }
  }
  const sources: Record<string, ConfigSource> = {};

  const find = (option: EnvOption): Found | undefined => lookup(option, ENV_NAMES[option]);
  const lookup = (option: keyof NetOptions, variable: string): Found | undefined => {
    const o = options[option];
    if (o !== undefined && o !== null && o !== '') return { value: o, source: 'option', name: option, where: 'option' };
    const e = env[variable];
    if (e !== undefined && e !== '') return { value: e, source: 'env', name: variable, where: 'environment' };
    const d = dotenv[variable];
    if (d !== undefined && d !== '') return { value: d, source: 'dotenv', name: variable, where: dotenvPath! };
    return undefined;
  };
  const missing = (option: EnvOption) =>
    new ConfigError(
      ENV_NAMES[option],
      `${option} is missing: pass the ${option} option or set ${ENV_NAMES[option]} (in the environment or a .env file)`,
      { option },
    );

  const requiredString = (option: 'rabbitUser' | 'rabbitPassword'): string => {
    const f = find(option);
    if (!f) throw missing(option);
    if (typeof f.value !== 'string') {
      throw new ConfigError(ENV_NAMES[option], `${f.name} must be a string`, { option });
    }
    sources[option] = f.source;
    return f.value;
  };

  const integer = (option: 'rabbitPort' | 'heartbeatInterval' | 'connectionAttempts' | 'messageTtl', min: number, max: number, fallback: number): number => {
    const f = find(option);
    if (!f) {
      sources[option] = 'default';
      return fallback;
    }
    const raw = f.value;
    const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\s*\d+\s*$/.test(raw) ? Number(raw) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      throw new ConfigError(
        ENV_NAMES[option],
        `${f.name} must be an integer from ${min} to ${max}, got ${JSON.stringify(typeof raw === 'number' ? String(raw) : raw)} (from ${f.where})`,
        { option },
      );
    }
    sources[option] = f.source;
    return n;
  };

  const key = (option: 'meshEncryptionKey' | 'snoopTraceEncryptionKey' | 'snoopSpyEncryptionKey', fallback?: string[]): string[] => {
    const f = find(option);
    if (!f) {
      if (fallback === undefined) throw missing(option);
      sources[option] = 'default';
      return fallback;
    }
    let keys: string[];
    try {
      keys = parseKeyList(f.value as KeyListInput, f.name);
    } catch (err) {
      // parseKeyList never echoes a key: it is a secret
      throw new ConfigError(ENV_NAMES[option], `${(err as Error).message} (from ${f.where})`, { option });
    }
    sources[option] = f.source;
    return keys;
  };

  // the reference's order of checking
  const rabbitPassword = requiredString('rabbitPassword');
  const rabbitUser = requiredString('rabbitUser');
  const tls = resolveTlsConfig(lookup, cwd);
  const rabbitPort = integer('rabbitPort', 1, 65535, tls ? AMQPS_PORT : DEFAULTS.rabbitPort);
  const heartbeatInterval = integer('heartbeatInterval', 0, 65535, DEFAULTS.heartbeatInterval);
  const connectionAttempts = integer('connectionAttempts', 1, 1000, DEFAULTS.connectionAttempts);
  const messageTtl = integer('messageTtl', 1, 2 ** 31 - 1, DEFAULTS.messageTtl);
  let meshEncryptionKey: string[];
  let snoopTraceEncryptionKey: string[];
  let snoopSpyEncryptionKey: string[];
  if (opts.meshKeyRequired === false && !find('meshEncryptionKey') && (find('snoopTraceEncryptionKey') || find('snoopSpyEncryptionKey'))) {
    const trace = find('snoopTraceEncryptionKey') ? key('snoopTraceEncryptionKey') : undefined;
    const spy = find('snoopSpyEncryptionKey') ? key('snoopSpyEncryptionKey') : undefined;
    snoopTraceEncryptionKey = trace ?? spy!;
    snoopSpyEncryptionKey = spy ?? trace!;
    meshEncryptionKey = snoopTraceEncryptionKey; // never used: the listener does not join the mesh
    sources.meshEncryptionKey = 'default';
  } else {
    meshEncryptionKey = key('meshEncryptionKey');
    snoopTraceEncryptionKey = key('snoopTraceEncryptionKey', meshEncryptionKey);
    snoopSpyEncryptionKey = key('snoopSpyEncryptionKey', meshEncryptionKey);
  }

  const optString = (name: keyof NetOptions): string | undefined => {
    const v = options[name];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v === '') throw new ConfigError('', `${name} must be a non-empty string`, { option: name });
    return v;
  };
  const optNumber = (name: keyof NetOptions, min: number, fallback: number, integerOnly = true): number => {
    const v = options[name];
    if (v === undefined) return fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || (integerOnly && !Number.isInteger(v))) {
      throw new ConfigError('', `${name} must be ${integerOnly ? 'an integer' : 'a number'} ≥ ${min}, got ${String(v)}`, { option: name });
    }
    return v;
  };

  const txRoutingKey = optString('txRoutingKey') ?? DEFAULTS.txRoutingKey;
  const rxRoutingKey = optString('rxRoutingKey') ?? txRoutingKey;
  const hosts = options.hosts ?? [];
  if (!Array.isArray(hosts) || hosts.some((h) => typeof h !== 'string' || h.trim() === '')) {
    throw new ConfigError('', 'hosts must be an array of non-empty strings (IP addresses or host names)', { option: 'hosts' });
  }
  if (options.arp !== undefined && typeof options.arp !== 'boolean') {
    throw new ConfigError('', 'arp must be a boolean', { option: 'arp' });
  }
  const hostsFileOption = optString('hostsFile');
  const clusterFile = optString('clusterFile');
  const thisAddress = optString('thisAddress');
  const topology = resolveTopology(find('topology'), clusterFile === undefined ? undefined : path.resolve(cwd, clusterFile));
  sources.topology = find('topology')?.source ?? 'default';

  const config: NetConfig = {
    rabbitUser,
    rabbitPassword,
    rabbitPort,
    heartbeatInterval,
    connectionAttempts,
    meshEncryptionKey: meshEncryptionKey[0],
    snoopTraceEncryptionKey: snoopTraceEncryptionKey[0],
    snoopSpyEncryptionKey: snoopSpyEncryptionKey[0],
    encryptionKeys: { mesh: meshEncryptionKey, trace: snoopTraceEncryptionKey, spy: snoopSpyEncryptionKey },
    txRoutingKey,
    rxRoutingKey,
    hosts: hosts.map((h) => h.trim()),
    hostsFile: path.resolve(cwd, hostsFileOption ?? DEFAULTS.hostsFile),
    hostsFileRequired: hostsFileOption !== undefined,
    arp: options.arp ?? false,
    cacheFile: path.resolve(cwd, optString('cacheFile') ?? DEFAULTS.cacheFile),
    cacheMaxAgeMinutes: optNumber('cacheMaxAgeMinutes', 0, DEFAULTS.cacheMaxAgeMinutes, false),
    startTimeoutMs: optNumber('startTimeoutMs', 1, DEFAULTS.startTimeoutMs),
    outboxBound: optNumber('outboxBound', 1, DEFAULTS.outboxBound),
    maxInFlight: optNumber('maxInFlight', 1, DEFAULTS.maxInFlight),
    departedLinkMs: optNumber('departedLinkMs', 0, DEFAULTS.departedLinkMs),
    messageTtl,
    queueExpiresMs: optNumber('queueExpiresMs', 1000, DEFAULTS.queueExpiresMs),
    topology,
    processName: optString('processName') ?? defaultProcessName(),
    sources,
  };
  if (tls !== undefined) config.tls = tls;
  if (thisAddress !== undefined) config.thisAddress = thisAddress;
  if (clusterFile !== undefined) config.clusterFile = path.resolve(cwd, clusterFile);
  return config;
}

/**
 * The topology: the option or MIROS_TOPOLOGY, else the cluster file's, else 'mesh'. An explicit
 * value that contradicts the cluster file is an error: the semantics never flip silently.
 */
function resolveTopology(found: Found | undefined, clusterFile: string | undefined): Topology {
  let explicit: Topology | undefined;
  if (found) {
    if (found.value !== 'mesh' && found.value !== 'clustered') {
      throw new ConfigError(ENV_NAMES.topology, `${found.name} must be 'mesh' or 'clustered', got ${JSON.stringify(found.value)} (from ${found.where})`, {
        option: 'topology',
      });
    }
    explicit = found.value;
  }
  const fromFile = clusterFile !== undefined && existsSync(clusterFile) ? readClusterFile(clusterFile).topology : undefined;
  if (explicit !== undefined && fromFile !== undefined && explicit !== fromFile) {
    throw new ConfigError(
      ENV_NAMES.topology,
      `${found!.name} is '${explicit}' but the cluster file ${clusterFile} describes a '${fromFile}' cluster: ` +
        `leave ${found!.name} unset or bring the cluster up with --topology ${explicit}`,
      { option: 'topology' },
    );
  }
  return explicit ?? fromFile ?? DEFAULTS.topology;
}

/** `peer` for `node dist/ops/instances/peer.js`: what the broker's connection list calls us. */
function defaultProcessName(): string {
  const script = process.argv[1];
  return script ? path.basename(script).replace(/\.[cm]?[jt]s$/, '') : 'node';
}

/**
 * The subset of NetConfig that makes a broker URL. Without connectionAttempts and
 * heartbeatInterval the URL has no query (the testbed's cluster.json URLs).
 */
export type UrlConfig = Pick<NetConfig, 'rabbitUser' | 'rabbitPassword' | 'rabbitPort'> &
  Partial<Pick<NetConfig, 'connectionAttempts' | 'heartbeatInterval'>> & {
    /** Set (any TLS settings, or true): the URL is amqps://. */
    tls?: TlsConfig | boolean;
  };

/**
 * The reference's URL for a broker:
 * `amqp://user:pass@IP:5672/%2F?connection_attempts=3&heartbeat_interval=10`
 * (the reference's default heartbeat was 3600; see DEFAULTS)
 * (user and password URL-encoded; `maskPassword` writes `***` instead, for logs and errors).
 * amqplib ignores both query parameters: openRecovering (connection.ts) passes the heartbeat
 * to amqplib and applies connection_attempts itself.
 */
export function amqpUrl(cfg: UrlConfig, host: string, opts: { maskPassword?: boolean } = {}): string {
  const user = encodeURIComponent(cfg.rabbitUser);
  const pass = opts.maskPassword ? '***' : encodeURIComponent(cfg.rabbitPassword);
  const h = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  const query = Object.entries({ connection_attempts: cfg.connectionAttempts, heartbeat_interval: cfg.heartbeatInterval })
    .flatMap(([name, value]) => (value === undefined ? [] : [`${name}=${value}`]))
    .join('&');
  return `${cfg.tls ? 'amqps' : 'amqp'}://${user}:${pass}@${h}:${cfg.rabbitPort}/%2F${query && `?${query}`}`;
}
