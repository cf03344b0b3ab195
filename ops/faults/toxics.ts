// Network toxics (after toxiproxy's): latency, bandwidth, stall, reset-peer on a host's AMQP
// path, through the userspace TCP proxy (proxy.ts), because this kernel has no sch_netem.
// Transparent on the broker's own address and port: clients dial the URL they always dial.
//
// How (netns, docker: inside the hosts' network namespaces, never in this machine's ruleset):
// for toxic(h), a proxy process (proxy-main.ts) runs in EVERY host's namespace on
// PROXY_PORT and relays to that host's broker; nftables in each namespace steer connections
// from elsewhere to the broker's AMQP port into that proxy, so both directions of every path
// between h and the others cross a proxy:
//
//   table ip mirosnet_toxic {
//     chain steer { type nat hook prerouting priority dstnat;           # new connections
//       [ip saddr { h's addresses }] tcp dport 5672 redirect to :56720 }
//     chain refuse { type filter hook input priority 0;                  # ones from before
//       iifname != "lo" [ip saddr {…}] tcp dport 5672 reject with tcp reset } }
//
// In h's namespace every source is steered; in the others only h's addresses. Connections
// made before the toxic were not redirected (conntrack keeps their route): the `refuse` chain
// answers their next packet with a RST, so their clients reconnect, through the proxy. The
// proxy's own connection to the broker is local (lo) and is never steered. heal removes the
// table and stops the proxies by PID (recorded in <dir>/toxics.json; the proxies first, so their
// resets are still translated back to the broker port): the proxied
// connections are reset once more and reconnect directly. One toxic at a time per cluster.
//
// Why not the design note's "broker moved behind the proxy at cluster up --toxics": this
// works on every netns/docker cluster as it is, with the broker's listener untouched; the
// price is one reconnect of the host's links at inject and at heal (no loss: the outboxes
// resend, the receivers dedup). latency(h, ms) adds ms to every round trip between h and
// the others (each direction held ms/2), as netem's delay on h's interface would.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ClusterError } from '../cluster/errors.ts';
import { type ClusterHandle, openCluster } from '../cluster/index.ts';
import { signal } from '../cluster/process.ts';
import { PROXY_MODULE, type ToxicState, readToxicState, stopToxicProxies, writeToxicState } from '../cluster/toxic-state.ts';
import { compiledModule } from '../package-root.ts';
import { UnsupportedError } from './errors.ts';
import { type Toxic } from './proxy.ts';
import { type FaultOptions, type FaultRecord, record } from './record.ts';

/** Where the proxies listen inside each namespace (the redirect's target). */
export const PROXY_PORT = 56720;
const TABLE = 'mirosnet_toxic';

export type ToxicKind = 'latency' | 'bandwidth' | 'stall' | 'reset-peer';

/** The toxic in force in the cluster at `dir` (toxics.json, kept with the cluster's state), if any. */
export function activeToxic(dir: string): ToxicState<Toxic> | undefined {
  return readToxicState<Toxic>(dir);
}

function run(enter: string[], args: string[], input?: string): Promise<{ code: number; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(enter[0], [...enter.slice(1), ...args], { stdio: [input === undefined ? 'ignore' : 'pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d));
    child.on('error', (err) => fail(new ClusterError(`${args[0]}: ${err.message}`, 'install nftables (apt-get install nftables)')));
    child.on('close', (code) => done({ code: code ?? 1, stderr }));
    if (input !== undefined) {
      child.stdin!.on('error', () => undefined);
      child.stdin!.end(input);
    }
  });
}

/** The nft rules of one namespace: steer (and reset) connections to its broker from `sources` (undefined: from everywhere). */
export function toxicRules(amqpPort: number, sources: string[] | undefined): string {
  const from = sources ? `ip saddr { ${sources.join(', ')} } ` : '';
  return `table ip ${TABLE} {
  chain steer { type nat hook prerouting priority dstnat; policy accept; ${from}tcp dport ${amqpPort} redirect to :${PROXY_PORT}; }
  chain refuse { type filter hook input priority 0; policy accept; iifname != "lo" ${from}tcp dport ${amqpPort} reject with tcp reset; }
}
`;
}

/** Starts one proxy in the namespace `enter` leads into; resolves with its pid once it listens. */
function startProxy(enter: string[], upstream: string, toxic: Toxic, log: string, tag: string): Promise<number> {
  const out = openSync(log, 'a');
  const args = [process.execPath, compiledModule(PROXY_MODULE), '--listen', `0.0.0.0:${PROXY_PORT}`, '--upstream', upstream, '--toxic', JSON.stringify(toxic), '--tag', tag];
  // `ip netns exec` and `nsenter` exec the program: the pid we get is the proxy's own
  const child = spawn(enter[0], [...enter.slice(1), ...args], { detached: true, stdio: ['ignore', 'pipe', out] });
  closeSync(out);
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => fail(new Error('no "ready" within 10 s')), 10_000);
    const fail = (err: Error) => {
      clearTimeout(timer);
      if (child.pid) signal(child.pid, 'SIGKILL');
      reject(new ClusterError(`the toxic proxy for ${upstream} did not start: ${err.message}`, `its log: ${log}`, tail(log)));
    };
    child.on('error', fail);
    child.on('exit', (code) => fail(new Error(`it exited (${code})`)));
    child.stdout!.on('data', (d: Buffer) => {
      text += d;
      if (!/^ready \d+/m.test(text)) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      child.stdout!.destroy();
      child.unref();
      resolve(child.pid!);
    });
  });
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-5).join('\n');
  } catch {
    return '';
  }
}

async function namespaces(c: ClusterHandle) {
  return Promise.all(
    c.file.nodes.map(async (n) => {
      const members = await c.backend.hostMembers(c.options, n);
      return { node: n, broker: members[0], addresses: members.map((m) => m.address) };
    }),
  );
}

async function toxify(kind: ToxicKind, host: string | number, toxic: Toxic, detail: string, opts: FaultOptions): Promise<FaultRecord> {
  const c = await openCluster(opts);
  const can = c.backend.capabilities(c.options).toxify;
  if (can !== true) {
    throw new UnsupportedError(`${kind} needs the netns or docker backend (${can.reason})`, c.backend.kind === 'local' ? 'start the cluster as root with --backend netns' : 'run as root');
  }
  const target = c.node(host);
  const active = activeToxic(c.dir);
  if (active) throw new ClusterError(`${active.host} already has a ${active.kind} toxic (one toxic at a time)`, `heal it first: mirosnet fault heal ${active.host} --dir ${c.dir}`);
  if (!existsSync(compiledModule(PROXY_MODULE))) throw new ClusterError(`the toxic proxy is not built (${compiledModule(PROXY_MODULE)} is missing)`, 'run npm run build (bin/mirosnet.mjs builds it by itself)');
  const hosts = await namespaces(c);
  const victim = hosts.find((h) => h.node.name === target.name)!;
  const logs = join(c.dir, 'toxics');
  mkdirSync(logs, { recursive: true });
  const state: ToxicState<Toxic> = { host: target.name, kind, toxic, at: new Date().toISOString(), proxies: [] };
  const save = () => writeToxicState(c.dir, state);
  try {
    for (const h of hosts) {
      const log = join(logs, `${h.node.name}.log`);
      const pid = await startProxy(h.broker.enter, `${h.node.host}:${h.node.amqpPort}`, toxic, log, c.dir);
      state.proxies.push({ node: h.node.name, label: h.broker.label, pid, log });
      save(); // recorded at once: a failure further on still finds it to stop
      const sources = h === victim ? undefined : victim.addresses;
      const r = await run(h.broker.enter, ['nft', '-f', '-'], toxicRules(h.node.amqpPort, sources));
      if (r.code !== 0) throw new ClusterError(`nft in ${h.broker.label} failed: ${r.stderr.trim()}`, /exec of "nft" failed|not found/i.test(r.stderr) ? 'install nftables (apt-get install nftables)' : undefined);
    }
  } catch (err) {
    await healToxics(undefined, opts).catch(() => undefined);
    throw err;
  }
  return record(kind, [target.name], c.backend.kind, `${detail}: a proxy on :${PROXY_PORT} in ${hosts.map((h) => `${h.broker.label} (pid ${state.proxies.find((p) => p.node === h.node.name)?.pid})`).join(', ')}; nft redirect of ${victim.node.amqpPort} in ${victim.broker.label} (every source) and the others (from ${victim.addresses.join(', ')})`, { kind: 'heal', target: [target.name] });
}

/** Adds `ms` (± jitterMs) to every round trip between the host and the others. Undo: heal(host). */
export function latency(host: string | number, ms: number, jitterMs = 0, opts: FaultOptions = {}): Promise<FaultRecord> {
  if (!(ms > 0)) throw new ClusterError(`latency needs a delay in ms above 0, got ${ms}`);
  return toxify('latency', host, { kind: 'latency', ms: ms / 2, jitterMs: jitterMs / 2 }, `+${ms} ms${jitterMs ? ` ± ${jitterMs}` : ''} per round trip`, opts);
}

/** Paces each direction of the host's AMQP paths to kbitPerS. Undo: heal(host). */
export function bandwidth(host: string | number, kbitPerS: number, opts: FaultOptions = {}): Promise<FaultRecord> {
  if (!(kbitPerS > 0)) throw new ClusterError(`bandwidth needs kbit/s above 0, got ${kbitPerS}`);
  return toxify('bandwidth', host, { kind: 'bandwidth', kbitPerS }, `${kbitPerS} kbit/s each way`, opts);
}

/** toxiproxy's timeout: no data moves on the host's AMQP paths, connections stay open. Undo: heal(host). */
export function stall(host: string | number, opts: FaultOptions = {}): Promise<FaultRecord> {
  return toxify('stall', host, { kind: 'stall' }, 'data stopped, connections held', opts);
}

/** toxiproxy's reset_peer: every connection on the host's AMQP paths is reset, new ones at once. Undo: heal(host). */
export function resetPeer(host: string | number, opts: FaultOptions = {}): Promise<FaultRecord> {
  return toxify('reset-peer', host, { kind: 'reset' }, 'every connection reset (RST), new ones too', opts);
}

/**
 * Removes the toxic in force (only if it is `host`'s, when given): the nft tables in every
 * namespace, and the proxies, stopped by their recorded PIDs. Resolves with what was
 * removed, or undefined when no toxic was in force.
 */
export async function healToxics(host: string | number | undefined, opts: FaultOptions = {}): Promise<string | undefined> {
  const c = await openCluster(opts);
  const active = activeToxic(c.dir);
  if (!active) return undefined;
  if (host !== undefined && c.node(host).name !== active.host) return undefined;
  const hosts = await namespaces(c);
  // the proxies first, while the redirect still translates their connections: their resets
  // reach the clients as from the broker's port, so every proxied link notices at once. With
  // the nat chain gone first, a client waiting for a reply (a handshake through the proxy)
  // would hear nothing until its attempt timed out.
  const stopped = await stopToxicProxies(c.dir, active);
  for (const h of hosts) {
    const r = await run(h.broker.enter, ['nft', 'delete', 'table', 'ip', TABLE]);
    if (r.code !== 0 && !/No such file|does not exist/i.test(r.stderr)) throw new ClusterError(`nft delete table in ${h.broker.label} failed: ${r.stderr.trim()}`);
  }
  return `${active.kind} of ${active.host} removed (nft table ${TABLE} in ${hosts.map((h) => h.broker.label).join(', ')}; proxies ${stopped.join(', ') || 'already gone'} stopped)`;
}
