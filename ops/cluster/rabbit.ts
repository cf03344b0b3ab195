// One RabbitMQ node as a plain process: config files, environment, spawn,
// readiness, stop. Shared by the local and netns backends (which differ in how
// the command is wrapped and what the node listens on).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ClusterError } from './errors.ts';
import { checkNode, nodeHealth } from './health.ts';
import { type NodeSpec } from './options.ts';
import { type RabbitConfig, renderEnabledPlugins, renderErlangTerms, resolve } from '../rabbit-config/index.ts';
import { writeDefinitions } from './admin-secret.ts';
import { childrenOf, envOf, isOurs, isRunning, sessionMembers, signal, waitGone } from './process.ts';
import type { NodeRecord } from './cluster-file.ts';
import type { ResolvedOptions } from './types.ts';
import { sleep } from '../util/wait.ts';

export const RABBITMQ_BIN = '/usr/lib/rabbitmq/bin';
export const RABBITMQ_SERVER = `${RABBITMQ_BIN}/rabbitmq-server`;

/** The shared Erlang cookie: HOME of servers and CLI is the cluster dir. */
export function ensureCookie(dir: string): void {
  const file = join(dir, '.erlang.cookie');
  if (existsSync(file)) return;
  mkdirSync(dir, { recursive: true });
  writeFileSync(file, randomBytes(15).toString('hex').toUpperCase(), { mode: 0o600 });
  chmodSync(file, 0o400);
}

/**
 * Writes the node's config from the model (ops/rabbit-config) in the classic Erlang-term
 * format (rabbitmq.config): it skips the Cuttlefish schema pass of rabbitmq.conf, ~0.4 s
 * of CPU per node start, which counts when several nodes start on two cores.
 */
export function writeNodeConfig(spec: NodeSpec, config: RabbitConfig, clusterDir: string): void {
  mkdirSync(join(spec.nodeDir, 'log'), { recursive: true });
  mkdirSync(spec.dataDir, { recursive: true });
  // the users (app user, ops admin): hashed, 0600, read by the node at every boot
  if (config.definitions) writeDefinitions(clusterDir, resolve(config.definitions.file, {}, 'definitions.file'));
  const header = '%% written by mirosnet from ops/rabbit-config (presets.mirosnetNode); rewritten at every start\n';
  writeFileSync(configFile(spec), header + renderErlangTerms(config, {}));
  rmSync(join(spec.nodeDir, 'rabbitmq.conf'), { force: true }); // from older versions of this tool
  writeFileSync(join(spec.nodeDir, 'rabbitmq-env.conf'), '# empty: keeps /etc/rabbitmq/rabbitmq-env.conf out\n');
  writeFileSync(join(spec.nodeDir, 'advanced.config'), '[].\n');
  writeFileSync(join(spec.nodeDir, 'enabled_plugins'), renderEnabledPlugins(config));
}

const configFile = (spec: NodeSpec) => join(spec.nodeDir, 'rabbitmq.config');

/** The parent environment without RABBITMQ_* / ERL_* settings, plus this node's. */
export function nodeEnv(spec: NodeSpec, o: ResolvedOptions, extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^(RABBITMQ_|ERL_|ERLANG_)/.test(k)) env[k] = v;
  }
  return {
    ...env,
    HOME: o.dir,
    LANG: env.LANG || 'C.UTF-8',
    RABBITMQ_NODENAME: spec.erlangNode,
    RABBITMQ_CONF_ENV_FILE: join(spec.nodeDir, 'rabbitmq-env.conf'),
    RABBITMQ_CONFIG_FILE: configFile(spec),
    RABBITMQ_CONFIG_FILES: join(spec.nodeDir, 'conf.d'), // not /etc/rabbitmq/conf.d
    RABBITMQ_ADVANCED_CONFIG_FILE: join(spec.nodeDir, 'advanced.config'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(spec.nodeDir, 'enabled_plugins'),
    RABBITMQ_MNESIA_BASE: spec.dataDir,
    RABBITMQ_LOG_BASE: join(spec.nodeDir, 'log'),
    RABBITMQ_LOGS: spec.logFile,
    RABBITMQ_PID_FILE: spec.pidFile,
    RABBITMQ_DIST_PORT: String(spec.distPort),
    ...extra,
  };
}

/** Starts the server in its own session (setsid); returns the wrapper's pid. */
export function spawnServer(spec: NodeSpec, cmd: string, args: string[], env: NodeJS.ProcessEnv): number {
  const out = openSync(spec.stdoutFile, 'a');
  try {
    writeFileSync(out, `\n=== ${new Date().toISOString()} starting ${spec.erlangNode}\n`);
    const child = spawn(cmd, args, { detached: true, stdio: ['ignore', out, out], env, cwd: spec.nodeDir });
    child.on('error', () => undefined); // reported through the readiness wait
    child.unref();
    if (!child.pid) throw new ClusterError(`${spec.name}: could not start ${cmd}`, 'check that RabbitMQ is installed: mirosnet install-deps');
    return child.pid;
  } finally {
    closeSync(out);
  }
}

/** The beam.smp running node `spec`: the wrapper's child, or the pid file. */
export function findBeam(spec: NodeSpec, rec: NodeRecord): number | undefined {
  if (isBeam(rec.pid, spec)) return rec.pid;
  if (rec.wrapperPid && isRunning(rec.wrapperPid)) {
    const child = childrenOf(rec.wrapperPid).find((p) => isBeam(p, spec));
    if (child) return child;
  }
  const fromFile = existsSync(spec.pidFile) ? Number(readFileSync(spec.pidFile, 'utf8').trim()) : undefined;
  return isBeam(fromFile, spec) ? fromFile : undefined;
}

/** Our beam for this node: the node name is not on its command line, but its pid-file path is in its environment. */
function isBeam(pid: number | undefined, spec: NodeSpec): pid is number {
  return isOurs(pid, 'beam') && envOf(pid, 'RABBITMQ_PID_FILE') === spec.pidFile;
}

/** Polls until the node is healthy; throws with its log tail if it exits or times out. */
export async function waitReady(o: Pick<ResolvedOptions, 'tls' | 'tlsDir' | 'dir'>, spec: NodeSpec, rec: NodeRecord, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last = 'not answering yet';
  for (;;) {
    const beam = findBeam(spec, rec);
    if (beam) rec.pid = beam;
    if (!beam && !isRunning(rec.wrapperPid)) {
      await sleep(200); // let the last log lines land
      throw new ClusterError(`node ${spec.name} (${spec.erlangNode}) exited during start-up`, `full log: mirosnet cluster logs ${spec.name}`, logTail(spec));
    }
    if (beam) {
      const h = await checkNode(o, spec.host, spec.erlangNode);
      if (h.healthy) return beam;
      last = h.detail ?? last;
    }
    if (Date.now() > deadline) {
      throw new ClusterError(
        `node ${spec.name} (${spec.erlangNode}) not healthy after ${Math.round(timeoutMs / 1000)} s: ${last}`,
        `full log: mirosnet cluster logs ${spec.name}`,
        logTail(spec),
      );
    }
    await sleep(250);
  }
}

/** SIGTERM (RabbitMQ stops cleanly), SIGKILL after `timeoutMs`, then whatever is left of its session. */
export async function stopServer(spec: NodeSpec, rec: NodeRecord, timeoutMs = 30_000): Promise<void> {
  const beam = findBeam(spec, rec);
  if (beam) {
    signal(beam, 'SIGTERM');
    if (!(await waitGone([beam], timeoutMs))) {
      signal(beam, 'SIGKILL');
      await waitGone([beam], 5000);
    }
  }
  if (rec.wrapperPid) {
    if (beam) await waitGone([rec.wrapperPid], 3000); // the wrapper reaps beam and exits by itself
    const rest = sessionMembers(rec.wrapperPid);
    rest.forEach((p) => signal(p, 'SIGKILL'));
    await waitGone(rest, 5000);
  }
  rec.pid = undefined;
  rec.wrapperPid = undefined;
}

/**
 * The node's own log lines for an error report: the tail of its log and of its
 * stdout (where crashes before logging starts end up), each preceded by earlier
 * error lines of the same start that the tail would miss.
 */
export function logTail(spec: NodeSpec, lines = 30): string {
  const parts: string[] = [];
  for (const file of [spec.logFile, spec.stdoutFile]) {
    if (!existsSync(file)) continue;
    const all = readFileSync(file, 'utf8').split('\n');
    if (all.at(-1) === '') all.pop();
    const from = Math.max(0, all.findLastIndex((l) => l.startsWith('=== ') || / Starting RabbitMQ /.test(l)));
    const section = all.slice(from);
    const earlier = section.slice(0, -lines).filter((l) => ERROR_LINE.test(l)).slice(0, 10);
    const text = [...earlier, ...(earlier.length ? ['…'] : []), ...section.slice(-lines)].join('\n');
    if (text.trim()) parts.push(`--- ${file} (last ${lines} lines${earlier.length ? ', earlier errors first' : ''})\n${text}`);
  }
  return parts.join('\n') || `(no log yet in ${spec.nodeDir})`;
}

const ERROR_LINE = /\[(error|critical|alert|emergency)\]|\berror\b|^bad |unknown|failed|crash|could not|cannot/i;

export function tailFile(file: string, lines: number): string {
  if (!existsSync(file)) return '';
  const all = readFileSync(file, 'utf8').split('\n');
  if (all.at(-1) === '') all.pop();
  return all.slice(-lines).join('\n');
}
