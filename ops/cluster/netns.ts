// netns backend (root): host i is network namespace `<nsPrefix>-<i>` with
// 10.77.0.(10+i)/24 on eth0, a veth whose other end `<nsPrefix>-<i>h` sits on
// the bridge `<nsPrefix>-br`. Each host runs its own epmd and RabbitMQ
// (node rabbit@ADDRESS, long names). No default route anywhere inside; the
// host side of the bridge gets .1 so tests and scenarios on this machine reach
// the brokers by their addresses (a route for that /24 only).
import { execFile, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { NodeHost } from './backend.ts';
import { nodeBackend } from './nodes.ts';
import type { NodeRecord, StateFile } from './cluster-file.ts';
import { ClusterError } from './errors.ts';
import { brokerTls, type NodeSpec } from './options.ts';
import { isOurs, isRunning, signal, waitGone } from './process.ts';
import { RABBITMQ_SERVER, ensureCookie, nodeEnv, spawnServer, writeNodeConfig } from './rabbit.ts';
import { presets } from './presets.ts';
import type { ResolvedOptions } from './types.ts';
import { sleep } from '../util/wait.ts';

const run = promisify(execFile);

export async function ip(...args: string[]): Promise<string> {
  try {
    return (await run('ip', args)).stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new ClusterError(`ip ${args.join(' ')} failed: ${(e.stderr || e.message).trim()}`, 'the netns backend needs root and iproute2; clean up with: mirosnet cluster down');
  }
}

const bridgeName = (o: ResolvedOptions) => `${o.nsPrefix}-br`;
const hostVeth = (spec: NodeSpec) => `${spec.ns}h`;
const subnet = (o: ResolvedOptions) => o.addressBase.split('.').slice(0, 3).join('.');
const bridgeAddress = (o: ResolvedOptions) => `${subnet(o)}.1`;

async function namespaces(): Promise<string[]> {
  return (await ip('netns', 'list')).split('\n').map((l) => l.split(' ')[0]).filter(Boolean);
}

async function linkExists(name: string, ns?: string): Promise<boolean> {
  try {
    await run('ip', [...(ns ? ['-n', ns] : []), 'link', 'show', name]);
    return true;
  } catch {
    return false;
  }
}

/** Spawns `cmd` inside namespace `ns`, in its own session; returns its pid. */
function spawnIn(ns: string, cmd: string, args: string[], logFile: string, env: NodeJS.ProcessEnv = process.env): number {
  const out = openSync(logFile, 'a');
  const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { detached: true, stdio: ['ignore', out, out], env });
  closeSync(out);
  child.on('error', () => undefined);
  child.unref();
  if (!child.pid) throw new ClusterError(`could not run ${cmd} in namespace ${ns}`, 'check that iproute2 is installed');
  return child.pid;
}

async function nsPortOpen(ns: string, port: number): Promise<boolean> {
  try {
    const { stdout } = await run('ip', ['netns', 'exec', ns, 'ss', '-Hltn', `sport = :${port}`]);
    return stdout.trim().length > 0;
  } catch {
    return false;
  }
}

async function ensureHost(o: ResolvedOptions, spec: NodeSpec): Promise<void> {
  const ns = spec.ns!;
  if (!(await namespaces()).includes(ns)) await ip('netns', 'add', ns);
  if (!(await linkExists('eth0', ns))) {
    if (await linkExists(hostVeth(spec))) await ip('link', 'del', hostVeth(spec));
    await ip('link', 'add', hostVeth(spec), 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
    await ip('-n', ns, 'addr', 'add', `${spec.host}/24`, 'dev', 'eth0');
  }
  await ip('link', 'set', hostVeth(spec), 'master', bridgeName(o), 'up');
  await ip('-n', ns, 'link', 'set', 'lo', 'up'); // epmd and the CLI use 127.0.0.1 inside
  await ip('-n', ns, 'link', 'set', 'eth0', 'up');
}

async function removeHost(o: ResolvedOptions, ns: string): Promise<void> {
  // everything still running inside is ours: the namespace is
  let pids: number[] = [];
  try {
    pids = (await ip('netns', 'pids', ns)).split('\n').filter(Boolean).map(Number);
  } catch {
    // namespace already gone
  }
  pids.forEach((p) => signal(p, 'SIGKILL'));
  await waitGone(pids, 5000);
  if ((await namespaces()).includes(ns)) await ip('netns', 'del', ns); // also removes its veth pair, asynchronously
  const veth = `${ns}h`;
  for (let i = 0; i < 20 && (await linkExists(veth)); i++) {
    if (i === 10) await ip('link', 'del', veth).catch(() => undefined); // still there after 1 s: delete it ourselves
    await sleep(100);
  }
  if (await linkExists(veth)) throw new ClusterError(`link ${veth} is still there after removing namespace ${ns}`, `remove it: ip link del ${veth}`);
  o.log(`${ns}  namespace removed`);
}

export const netnsHost: NodeHost = {
  kind: 'netns',

  wrap: (spec: NodeSpec) => ['ip', 'netns', 'exec', spec.ns!],

  async prepare(o: ResolvedOptions, state: StateFile): Promise<void> {
    ensureCookie(o.dir);
    const br = bridgeName(o);
    const net = `${subnet(o)}.0/24`;
    if (!(await linkExists(br))) {
      const routes = await ip('-4', 'route', 'show', 'to', 'root', net);
      const clash = routes.split('\n').find((r) => r.trim() && !r.includes(`dev ${br}`));
      if (clash) {
        throw new ClusterError(`${net} is already routed on this machine (${clash.trim()})`, 'pick another first address (addressBase) for the netns cluster');
      }
      await ip('link', 'add', br, 'type', 'bridge');
      await ip('addr', 'add', `${bridgeAddress(o)}/24`, 'dev', br);
      o.log(`${br}  bridge ${bridgeAddress(o)}/24`);
    }
    await ip('link', 'set', br, 'up');
    state.bridge = br;
  },

  async start(o: ResolvedOptions, spec: NodeSpec, rec: NodeRecord): Promise<number> {
    const ns = spec.ns!;
    await ensureHost(o, spec);
    if (!isOurs(rec.epmdPid, 'epmd') && !(await nsPortOpen(ns, 4369))) {
      const { ERL_EPMD_ADDRESS: _a, ERL_EPMD_PORT: _p, ...env } = process.env; // all addresses, port 4369, inside the namespace
      rec.epmdPid = spawnIn(ns, 'epmd', [], join(o.dir, `epmd-${ns}.log`), env);
      for (let i = 0; i < 50 && !(await nsPortOpen(ns, 4369)); i++) await sleep(100);
    }
    writeNodeConfig(spec, presets.mirosnetNode(o, spec), o.dir); // all addresses of its namespace: lo and eth0
    const env = nodeEnv(spec, o, { RABBITMQ_USE_LONGNAME: 'true', RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: o.erlArgs });
    return spawnServer(spec, 'ip', ['netns', 'exec', ns, RABBITMQ_SERVER], env);
  },

  async removeNode(o: ResolvedOptions, spec: NodeSpec, rec: NodeRecord): Promise<void> {
    if (isRunning(rec.epmdPid)) signal(rec.epmdPid, 'SIGTERM');
    await removeHost(o, spec.ns!);
  },

  async teardown(o: ResolvedOptions): Promise<void> {
    const mine = new RegExp(`^${o.nsPrefix}-\\d+$`);
    for (const ns of (await namespaces()).filter((n) => mine.test(n))) await removeHost(o, ns);
    const br = bridgeName(o);
    if (await linkExists(br)) {
      await ip('link', 'del', br);
      o.log(`${br}  bridge removed`);
    }
  },

  async partitioned(_o: ResolvedOptions, spec: NodeSpec): Promise<boolean> {
    try {
      const out = await ip('-n', spec.ns!, '-o', 'link', 'show', 'eth0');
      return !/<[^>]*\bUP\b/.test(out);
    } catch {
      return true;
    }
  },

  async setLink(o: ResolvedOptions, spec: NodeSpec, up: boolean): Promise<void> {
    await ip('-n', spec.ns!, 'link', 'set', 'eth0', up ? 'up' : 'down');
    o.log(`${spec.name}  (${spec.ns}, ${spec.host}) link ${up ? 'up: healed' : 'down: partitioned'}`);
  },
};

export const netnsBackend = nodeBackend(netnsHost);
