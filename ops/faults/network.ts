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
import { healToxics } from './toxics.ts';
import { type FaultOptions, type FaultRecord, record } from './record.ts';

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

/** A host: every namespace it has (docker: the broker's container and the instances'), every address. */
type Host = { name: string; addresses: string[]; members: Ns[]; label: string };

interface Net {
  backend: FaultRecord['backend'];
  machine: string;
  nodes: Host[];
  pick(node: string | number): Host;
}

async function hosts(opts: FaultOptions, kind: 'partition' | 'isolate' | 'heal'): Promise<Net> {
  const c = await openCluster(opts);
  const can = c.backend.capabilities(c.options)[kind === 'isolate' ? 'isolate' : 'partition'];
  if (can !== true) {
    const hint = c.backend.kind === 'local' ? 'start the cluster as root with --backend netns' : 'run as root';
    throw new UnsupportedError(`${kind} needs the netns or docker backend${c.backend.kind === 'local' ? ': local nodes share one network stack' : ''} (${can.reason})`, hint);
  }
  const nodes = await Promise.all(
    c.file.nodes.map(async (n): Promise<Host> => {
      const members = await c.backend.hostMembers(c.options, n);
      return { name: n.name, addresses: members.map((m) => m.address), members: members.map((m) => ({ enter: m.enter, label: m.label })), label: members.map((m) => m.label).join('+') };
    }),
  );
  return {
    backend: c.backend.kind,
    machine: c.backend.machineAddress(c.options)!,
    nodes,
    pick: (ref) => nodes.find((n) => n.name === c.node(ref).name)!,
  };
}

const cutAll = async (h: Host, addresses: string[]) => {
  for (const m of h.members) await cut(m, addresses);
};
const uncutAll = async (h: Host, addresses: string[]) => {
  for (const m of h.members) await uncut(m, addresses);
};

/** Cuts ONE pair of hosts (netns, docker): each drops the other's packets, both ways. Undo: heal(a, b). */
export async function partition(a: string | number, b: string | number, opts: FaultOptions = {}): Promise<FaultRecord> {
  const net = await hosts(opts, 'partition');
  const [x, y] = [net.pick(a), net.pick(b)];
  if (x.name === y.name) throw new ClusterError(`partition needs two different hosts, got ${x.name} twice`);
  await cutAll(x, y.addresses);
  await cutAll(y, x.addresses);
  return record('partition', [x.name, y.name], net.backend, `nft drop ${y.addresses.join(', ')} in ${x.label}, ${x.addresses.join(', ')} in ${y.label}`, { kind: 'heal', target: [x.name, y.name] });
}

/** Cuts a host from every other host and from this machine (netns, docker). Undo: heal(host). */
export async function isolate(host: string | number, opts: FaultOptions = {}): Promise<FaultRecord> {
  const net = await hosts(opts, 'isolate');
  const h = net.pick(host);
  const others = net.nodes.filter((n) => n.name !== h.name);
  const away = [...others.flatMap((n) => n.addresses), net.machine];
  await cutAll(h, away);
  for (const n of others) await cutAll(n, h.addresses);
  return record('isolate', [h.name], net.backend, `nft drop ${away.join(', ')} in ${h.label}, ${h.addresses.join(', ')} in ${others.map((n) => n.label).join(', ')}`, {
    kind: 'heal',
    target: [h.name],
  });
}

/**
 * Removes cuts (netns, docker): heal(a, b) the pair's, heal(a) every cut of a (an isolate
 * too) and a's toxic (toxics.ts), heal() every cut in every namespace of the cluster (their
 * nft tables are deleted) and the toxic in force.
 */
export async function heal(a?: string | number, b?: string | number, opts: FaultOptions = {}): Promise<FaultRecord> {
  const net = await hosts(opts, 'heal');
  const all = net.nodes;
  if (a === undefined) {
    for (const m of all.flatMap((n) => n.members)) if ((await nft(m, ['list', 'table', 'inet', TABLE])).code === 0) await must(m, ['delete', 'table', 'inet', TABLE]);
    const toxic = await healToxics(undefined, opts);
    return record('heal', [], net.backend, `nft table inet ${TABLE} deleted in ${all.map((n) => n.label).join(', ')}${toxic ? `; ${toxic}` : ''}`);
  }
  const x = net.pick(a);
  if (b !== undefined) {
    const y = net.pick(b);
    await uncutAll(x, y.addresses);
    await uncutAll(y, x.addresses);
    return record('heal', [x.name, y.name], net.backend, `nft drop of ${y.addresses.join(', ')} removed in ${x.label}, of ${x.addresses.join(', ')} in ${y.label}`);
  }
  const others = all.filter((n) => n.name !== x.name);
  await uncutAll(x, [...others.flatMap((n) => n.addresses), net.machine]);
  for (const n of others) await uncutAll(n, x.addresses);
  const toxic = await healToxics(x.name, opts);
  return record('heal', [x.name], net.backend, `every nft drop of or in ${x.label} removed${toxic ? `; ${toxic}` : ''}`);
}
