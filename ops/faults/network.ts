// Network faults between hosts of a netns or docker cluster, with nftables inside the hosts'
// network namespaces (netns: `ip netns exec`; docker: `nsenter` into the broker container's,
// root) and never in this machine's own ruleset: each namespace that has a cut gets the table
//
//   table inet mirosnet { set cut { type ipv4_addr }            # the peers it cannot talk to
//     chain input  { type filter hook input  priority 0; ip saddr @cut drop }
//     chain output { type filter hook output priority 0; ip daddr @cut drop } }
//
// partition(a, b) adds b's address to a's set and a's to b's; packets are dropped (not
// rejected), established connections included: senders time out, as on a real cut.
// isolate(h) cuts h from every other host and from this machine (the bridge's .1: the
// cut sits in h's namespace only). heal(a, b) removes one pair, heal(h) every cut of h,
// heal() deletes the table in every namespace. On the local backend every node shares
// this machine's network stack: these throw UnsupportedError (the CLI exits 2).
import { spawn } from 'node:child_process';
import { ClusterError } from '../cluster/errors.ts';
import { openCluster } from '../cluster/index.ts';
import { UnsupportedError } from './errors.ts';
import { type FaultKind, type FaultOptions, type FaultRecord, record } from './record.ts';

const TABLE = 'mirosnet';

/** How to enter a host's namespace (Backend.inNetns), and its name for messages. */
interface Ns {
  enter: string[];
  label: string;
}

function nft(ns: Ns, args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(ns.enter[0], [...ns.enter.slice(1), 'nft', ...args], { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d));
    child.stderr!.on('data', (d: Buffer) => (stderr += d));
    child.on('error', (err) => fail(new ClusterError(`nft in namespace ${ns.label}: ${err.message}`, 'install nftables (apt-get install nftables)')));
    child.on('close', (code) => done({ code: code ?? 1, stdout, stderr }));
    if (input !== undefined) {
      child.stdin!.on('error', () => undefined); // nft failed before reading it: its exit status and stderr say why
      child.stdin!.end(input);
    }
  });
}

async function must(ns: Ns, args: string[], input?: string): Promise<string> {
  const r = await nft(ns, args, input);
  if (r.code !== 0) {
    const missing = /No such file|not found|exec of "nft" failed/i.test(r.stderr) && !/table|set|element/i.test(r.stderr);
    throw new ClusterError(`nft ${args.join(' ')} in namespace ${ns.label} failed: ${r.stderr.trim()}`, missing ? 'install nftables (apt-get install nftables)' : undefined);
  }
  return r.stdout;
}

/** The addresses in the namespace's cut set ([] when it has no table). */
export async function cutsIn(ns: string | Ns): Promise<string[]> {
  if (typeof ns === 'string') ns = { enter: ['ip', 'netns', 'exec', ns], label: ns };
  const r = await nft(ns, ['-j', 'list', 'set', 'inet', TABLE, 'cut']);
  if (r.code !== 0) {
    if (/No such file or directory|does not exist/i.test(r.stderr)) return [];
    throw new ClusterError(`nft list set in namespace ${ns.label} failed: ${r.stderr.trim()}`, /exec of "nft" failed/.test(r.stderr) ? 'install nftables (apt-get install nftables)' : undefined);
  }
  const json = JSON.parse(r.stdout) as { nftables: { set?: { elem?: (string | { elem?: { val?: string } })[] } }[] };
  const set = json.nftables.find((x) => x.set)?.set;
  return (set?.elem ?? []).map((e) => (typeof e === 'string' ? e : String(e.elem?.val)));
}

async function ensureTable(ns: Ns): Promise<void> {
  if ((await nft(ns, ['list', 'table', 'inet', TABLE])).code === 0) return;
  await must(
    ns,
    ['-f', '-'],
    `table inet ${TABLE} {
  set cut { type ipv4_addr; }
  chain input { type filter hook input priority 0; policy accept; ip saddr @cut drop; }
  chain output { type filter hook output priority 0; policy accept; ip daddr @cut drop; }
}
`,
  );
}

async function cut(ns: Ns, addresses: string[]): Promise<void> {
  if (!addresses.length) return;
  await ensureTable(ns);
  await must(ns, ['add', 'element', 'inet', TABLE, 'cut', `{ ${addresses.join(', ')} }`]);
}

async function uncut(ns: Ns, addresses: string[]): Promise<void> {
  const present = new Set(await cutsIn(ns));
  const gone = addresses.filter((a) => present.has(a));
  if (gone.length) await must(ns, ['delete', 'element', 'inet', TABLE, 'cut', `{ ${gone.join(', ')} }`]);
}

type Host = { name: string; host: string; ns: Ns };

interface Net {
  backend: FaultRecord['backend'];
  machine: string;
  nodes: Host[];
  pick(node: string | number): Host;
}

async function hosts(opts: FaultOptions, kind: FaultKind): Promise<Net> {
  const c = await openCluster(opts);
  const can = c.backend.capabilities(c.options)[kind === 'isolate' ? 'isolate' : 'partition'];
  if (can !== true) {
    const hint = c.backend.kind === 'local' ? 'start the cluster as root with --backend netns' : 'run as root';
    throw new UnsupportedError(`${kind} needs the netns or docker backend${c.backend.kind === 'local' ? ': local nodes share one network stack' : ''} (${can.reason})`, hint);
  }
  const nodes = await Promise.all(
    c.file.nodes.map(async (n): Promise<Host> => ({ name: n.name, host: n.host, ns: { enter: await c.backend.inNetns(c.options, n), label: n.namespace ?? n.container ?? n.name } })),
  );
  return {
    backend: c.backend.kind,
    machine: c.backend.machineAddress(c.options)!,
    nodes,
    pick: (ref) => nodes.find((n) => n.name === c.node(ref).name)!,
  };
}

/** Cuts ONE pair of hosts (netns): each drops the other's packets, both ways. Undo: heal(a, b). */
export async function partition(a: string | number, b: string | number, opts: FaultOptions = {}): Promise<FaultRecord> {
  const net = await hosts(opts, 'partition');
  const [x, y] = [net.pick(a), net.pick(b)];
  if (x.name === y.name) throw new ClusterError(`partition needs two different hosts, got ${x.name} twice`);
  await cut(x.ns, [y.host]);
  await cut(y.ns, [x.host]);
  return record('partition', [x.name, y.name], net.backend, `nft drop ${y.host} in ${x.ns.label}, ${x.host} in ${y.ns.label}`, { kind: 'heal', target: [x.name, y.name] });
}

/** Cuts a host from every other host and from this machine (netns). Undo: heal(host). */
export async function isolate(host: string | number, opts: FaultOptions = {}): Promise<FaultRecord> {
  const net = await hosts(opts, 'isolate');
  const h = net.pick(host);
  const others = net.nodes.filter((n) => n.name !== h.name);
  await cut(h.ns, [...others.map((n) => n.host), net.machine]);
  for (const n of others) await cut(n.ns, [h.host]);
  return record('isolate', [h.name], net.backend, `nft drop ${[...others.map((n) => n.host), net.machine].join(', ')} in ${h.ns.label}, ${h.host} in ${others.map((n) => n.ns.label).join(', ')}`, {
    kind: 'heal',
    target: [h.name],
  });
}

/**
 * Removes cuts (netns): heal(a, b) the pair's, heal(a) every cut of a (an isolate too),
 * heal() every cut in every namespace of the cluster (their nft tables are deleted).
 */
export async function heal(a?: string | number, b?: string | number, opts: FaultOptions = {}): Promise<FaultRecord> {
  const net = await hosts(opts, 'heal');
  const all = net.nodes;
  if (a === undefined) {
    for (const n of all) if ((await nft(n.ns, ['list', 'table', 'inet', TABLE])).code === 0) await must(n.ns, ['delete', 'table', 'inet', TABLE]);
    return record('heal', [], net.backend, `nft table inet ${TABLE} deleted in ${all.map((n) => n.ns.label).join(', ')}`);
  }
  const x = net.pick(a);
  if (b !== undefined) {
    const y = net.pick(b);
    await uncut(x.ns, [y.host]);
    await uncut(y.ns, [x.host]);
    return record('heal', [x.name, y.name], net.backend, `nft drop of ${y.host} removed in ${x.ns.label}, of ${x.host} in ${y.ns.label}`);
  }
  const others = all.filter((n) => n.name !== x.name);
  await uncut(x.ns, [...others.map((n) => n.host), net.machine]);
  for (const n of others) await uncut(n.ns, [x.host]);
  return record('heal', [x.name], net.backend, `every nft drop of or in ${x.ns.label} removed`);
}
