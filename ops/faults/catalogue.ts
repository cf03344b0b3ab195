// The fault catalogue: every kind of fault, one row each. The CLI (`mirosnet fault`), the
// scenario API (t.fault), chaos (its kinds, its schedule and its cycles) and the records in
// force (in-force.ts) all read this table; nothing else names a kind. A row says:
//   params   what it takes (its arity is theirs: node, instance, number; optional ones last)
//   needs    the backend capability it needs (Backend.capabilities): a backend without it
//            is not offered the kind (chaos --faults all leaves it out)
//   inject   what it does (its implementation file), resolving with the record it writes
//   heal     the kind that undoes it (the record's undo names it, with its target)
//   writes   what the record's target and detail hold
//   chaos    how the chaos schedule uses it (absent: chaos never picks it)
// Adding a kind: its implementation file, and its row here.
import type { Primitive, Support } from '../cluster/backend.ts';
import type { BackendKind } from '../cluster/types.ts';
import type { FaultOptions, FaultRecord } from './record.ts';

// the implementations are loaded when a fault runs: reading the catalogue (the CLI's
// commands, chaos's schedule) loads no cluster module
const broker = () => import('./broker.ts');
const instances = () => import('./instances.ts');
const network = () => import('./network.ts');
const toxics = () => import('./toxics.ts');
const brokerApi = () => import('./broker-api.ts');

export interface FaultParam {
  /** Its name in the usage line. */
  name: string;
  /** flag: the word itself (the CLI's --NAME); choice: one of `choices`. */
  kind: 'node' | 'instance' | 'number' | 'choice' | 'flag';
  /** numbers: what it is, for the usage error ("the delay (ms)"). */
  what?: string;
  choices?: readonly string[];
  optional?: true;
}

/** Which paths of the mesh a fault interrupts, for chaos's resume measurement. */
export type FaultPaths = 'pair' | 'host' | 'broker' | 'instance';

export interface ChaosUse {
  /** What the schedule picks: one host, two different hosts, or one instance. */
  target: 'host' | 'pair' | 'instance';
  /** The numbers the schedule draws for the fault's number parameters, in their order. */
  draw?: (rnd: () => number) => Record<string, number>;
  paths: FaultPaths;
  /** What today's runtime may lose or duplicate on purpose in this kind (faults.jsonl). */
  expectedLoss: string;
  /** In chaos's default set (the kinds of the recorded seeds). */
  byDefault?: true;
  /** Chaos injects it otherwise than the CLI does (restart-broker: stopped, held down, then started). */
  inject?: (args: readonly string[], opts: FaultOptions) => Promise<FaultRecord>;
}

export interface FaultSpec {
  /** One line for the help. */
  summary: string;
  params: readonly FaultParam[];
  needs?: Primitive;
  inject: (args: readonly string[], opts: FaultOptions) => Promise<FaultRecord>;
  /** The kind that undoes it (the record's undo). */
  heal?: string;
  /** What its record holds. */
  writes: string;
  chaos?: ChaosUse;
}

const node = (name = 'node'): FaultParam => ({ name, kind: 'node' });
const instance: FaultParam = { name: 'instance', kind: 'instance' };
const num = (args: readonly string[], i: number, dflt = 0): number => (args[i] === undefined ? dflt : Number(args[i]));

/** The kinds, in the order chaos draws them (the recorded seeds depend on it). */
const ROWS = {
  partition: {
    summary: 'cut two hosts from each other, both ways (nftables drop)',
    params: [node('a'), node('b')],
    needs: 'partition',
    inject: async ([a, b], o) => (await network()).partition(a, b, o),
    heal: 'heal',
    writes: 'target: both hosts; detail: the nft elements added in each',
    chaos: { target: 'pair', paths: 'pair', byDefault: true, expectedLoss: "none: the cut path resumes from durable queues and the senders' outboxes" },
  },
  isolate: {
    summary: 'cut a host from every other host and from this machine',
    params: [node()],
    needs: 'isolate',
    inject: async ([a], o) => (await network()).isolate(a, o),
    heal: 'heal',
    writes: 'target: the host; detail: the nft elements added',
    chaos: { target: 'host', paths: 'host', byDefault: true, expectedLoss: 'none: as partition, to and from every other host' },
  },
  'kill-broker': {
    summary: "SIGKILL to the node's broker (docker: the container)",
    params: [node()],
    inject: async ([a], o) => (await broker()).killBroker(a, o),
    heal: 'restart-broker',
    writes: 'target: the node; detail: the pid signalled',
    chaos: { target: 'host', paths: 'broker', byDefault: true, expectedLoss: 'none for persistent events in durable queues; unconfirmed publishes are resent by the outbox' },
  },
  'pause-broker': {
    summary: "SIGSTOP to the node's broker (docker: container paused)",
    params: [node()],
    inject: async ([a], o) => (await broker()).pauseBroker(a, o),
    heal: 'resume-broker',
    writes: 'target: the node; detail: the pid stopped',
    chaos: { target: 'host', paths: 'broker', byDefault: true, expectedLoss: 'none: a paused broker resumes with its queues' },
  },
  'restart-broker': {
    summary: 'stop the node (SIGTERM) and start it again, data kept; resolves once it is healthy',
    params: [node()],
    inject: async ([a], o) => (await broker()).restartBroker(a, o),
    writes: 'target: the node; detail: the pids before and after',
    chaos: { target: 'host', paths: 'broker', byDefault: true, expectedLoss: 'none: as kill-broker, with a clean stop', inject: async ([a], o) => (await broker()).termBroker(a, o) },
  },
  'kill-instance': {
    summary: "SIGKILL to a running scenario's instance (the run counts it as scheduled)",
    params: [instance],
    inject: async ([a], o) => (await instances()).killInstance(a, o),
    heal: 'restart-instance',
    writes: 'target: the instance; detail: what the run did',
    chaos: {
      target: 'instance',
      paths: 'instance',
      byDefault: true,
      expectedLoss:
        "none at the killed receiver (acked only after the chart's step, its queue kept for its restart); the killed sender's unconfirmed events die with it (not promised). Duplicates at the restarted receiver are allowed and counted.",
    },
  },
  latency: {
    summary: 'add ms (± jitter) to every round trip between the host and the others (the toxic proxy)',
    params: [node(), { name: 'ms', kind: 'number', what: 'the delay (ms)' }, { name: 'jitter', kind: 'number', what: 'the jitter (ms)', optional: true }],
    needs: 'toxify',
    inject: async (args, o) => (await toxics()).latency(args[0], num(args, 1), num(args, 2), o),
    heal: 'heal',
    writes: 'target: the host; detail: the proxies started and the nft redirects',
    chaos: {
      target: 'host',
      paths: 'host',
      byDefault: true,
      draw: (rnd) => ({ ms: 100 + Math.floor(rnd() * 5) * 100 }),
      expectedLoss: "none: slower, and the host's links reconnect through the proxy at inject and directly at heal (the outboxes resend, receivers dedup)",
    },
  },
  'resume-broker': {
    summary: "SIGCONT to the node's broker (docker: container unpaused)",
    params: [node()],
    inject: async ([a], o) => (await broker()).resumeBroker(a, o),
    writes: 'target: the node; detail: the pid continued',
  },
  heal: {
    summary: 'no node: every cut and toxic; one: its cuts and toxic; two: that pair',
    params: [
      { name: 'a', kind: 'node', optional: true },
      { name: 'b', kind: 'node', optional: true },
    ],
    needs: 'partition',
    inject: async ([a, b], o) => (await network()).heal(a, b, o),
    writes: 'target: what was healed ([] for everything); detail: the nft elements and the toxic removed',
  },
  bandwidth: {
    summary: "pace each direction of the host's AMQP paths to kbit/s (the toxic proxy)",
    params: [node(), { name: 'kbit/s', kind: 'number', what: 'the rate (kbit/s)' }],
    needs: 'toxify',
    inject: async (args, o) => (await toxics()).bandwidth(args[0], num(args, 1), o),
    heal: 'heal',
    writes: 'target: the host; detail: the proxies started and the nft redirects',
  },
  stall: {
    summary: "no data moves on the host's AMQP paths, connections stay open (the toxic proxy)",
    params: [node()],
    needs: 'toxify',
    inject: async ([a], o) => (await toxics()).stall(a, o),
    heal: 'heal',
    writes: 'target: the host; detail: the proxies started and the nft redirects',
  },
  'reset-peer': {
    summary: "every connection on the host's AMQP paths is reset, new ones too (the toxic proxy)",
    params: [node()],
    needs: 'toxify',
    inject: async ([a], o) => (await toxics()).resetPeer(a, o),
    heal: 'heal',
    writes: 'target: the host; detail: the proxies started and the nft redirects',
  },
  'restart-instance': {
    summary: "start a scenario's instance again under the same name, on the same host (killing it first if it runs)",
    params: [instance],
    inject: async ([a], o) => (await instances()).restartInstance(a, o),
    writes: 'target: the instance; detail: what the run did',
  },
  'term-instance': {
    summary: 'SIGTERM to an instance (a clean stop: its queues kept), then the same program started again',
    params: [instance],
    inject: async ([a], o) => (await instances()).termInstance(a, o),
    writes: 'target: the instance; detail: the stop and the restart',
    chaos: { target: 'instance', paths: 'instance', expectedLoss: 'none: the stopped chart keeps its queues; what arrived meanwhile waits there' },
  },
  'drop-connections': {
    summary: "the broker closes an instance's connections (management API); with --kill the instance is SIGKILLed right after",
    params: [instance, { name: 'kill', kind: 'flag', optional: true }],
    inject: async ([a, kill], o) => (await brokerApi()).dropConnections(a, kill === 'kill', o),
    writes: 'target: the instance; detail: the connections closed (and the kill)',
    chaos: { target: 'instance', paths: 'instance', expectedLoss: 'none: the links reconnect and the broker redelivers what was unacked (receivers dedup)' },
  },
  'delete-queue': {
    summary: "delete a chart's queues (management API); the record's removed: the mesh queue's depth at deletion",
    params: [{ name: 'chart', kind: 'instance' }],
    inject: async ([a], o) => (await brokerApi()).deleteQueue(a, o),
    heal: 'restart-instance',
    writes: "target: the chart; detail: the queues deleted and their depths; removed: the mesh queues' depth",
    chaos: { target: 'instance', paths: 'instance', expectedLoss: "what the deleted queue held (the record's removed) and what reached its broker before the chart declared it again (the gap, by send time): both counted as removed, not lost" },
  },
  'clock-step': {
    summary: 'stop an instance cleanly and start it with its wall clock 30 minutes behind (faketime; local and netns)',
    params: [instance],
    needs: 'clock',
    inject: async ([a], o) => (await instances()).clockStep(a, o),
    heal: 'term-instance',
    writes: 'target: the instance; detail: the clean stop and the restart under faketime',
    chaos: { target: 'instance', paths: 'instance', expectedLoss: "none once receivers key their dedup on the sender's incarnation (today: a sender behind its old window is muted)" },
  },
  alarm: {
    summary: "raise a broker's memory (default) or disk alarm: its publishers are blocked",
    params: [node(), { name: 'memory|disk', kind: 'choice', choices: ['memory', 'disk'], optional: true }],
    inject: async ([a, which], o) => (await brokerApi()).alarm(a, which, o),
    heal: 'clear-alarm',
    writes: 'target: the node and the alarm; detail: the rabbitmqctl command',
    chaos: { target: 'host', paths: 'broker', expectedLoss: 'none: publishers are blocked, the outboxes hold (up to their bound) and resend' },
  },
  'clear-alarm': {
    summary: "clear a broker's memory (default) or disk alarm (the threshold back to RabbitMQ's default)",
    params: [node(), { name: 'memory|disk', kind: 'choice', choices: ['memory', 'disk'], optional: true }],
    inject: async ([a, which], o) => (await brokerApi()).clearAlarm(a, which, o),
    writes: 'target: the node and the alarm; detail: the rabbitmqctl command',
  },
} satisfies Record<string, FaultSpec>;

export type Catalogue = Readonly<Record<string, FaultSpec>>;
export type FaultKind = keyof typeof ROWS;
export const CATALOGUE: Catalogue = ROWS;
export const FAULT_KINDS = Object.keys(ROWS) as FaultKind[];

/** The row of `kind`, or undefined. */
export function faultSpec(kind: string, catalogue: Catalogue = CATALOGUE): FaultSpec | undefined {
  return Object.hasOwn(catalogue, kind) ? catalogue[kind] : undefined;
}

/** How many arguments a kind takes: [min, max]. */
export function arity(spec: FaultSpec): [number, number] {
  return [spec.params.filter((p) => !p.optional).length, spec.params.length];
}

/** The usage line of a kind: `latency NODE MS [JITTER]`. */
export function usage(kind: string, spec: FaultSpec): string {
  const word = (p: FaultParam) => (p.kind === 'flag' ? `--${p.name}` : p.name.toUpperCase());
  return [kind, ...spec.params.map((p) => (p.optional ? `[${word(p)}]` : word(p)))].join(' ');
}

/**
 * Checks a kind's arguments as typed (count, numbers); a problem is returned as one line, for
 * a usage error. The wording of the count is the CLI's since the first release ("takes 2 nodes").
 */
export function checkArgs(kind: string, args: readonly string[], catalogue: Catalogue = CATALOGUE): string | undefined {
  const spec = faultSpec(kind, catalogue);
  if (!spec) return `unknown fault kind '${kind}' (the kinds: ${Object.keys(catalogue).join(', ')})`;
  const [min, max] = arity(spec);
  if (args.length < min || args.length > max) {
    const want = min === max ? `${min} node${min > 1 ? 's' : ''}` : `${min} to ${max} nodes`;
    return `${kind} takes ${want}, got ${args.length}${args.length ? ` (${args.join(' ')})` : ''}`;
  }
  for (const [i, p] of spec.params.entries()) {
    const v = args[i];
    if (v === undefined) continue;
    if (p.kind === 'choice' && !p.choices?.includes(v)) return `${kind}: ${p.name} is ${p.choices?.join(' or ')}, got ${v}`;
    if (p.kind === 'flag' && v !== p.name) return `${kind}: the last argument may only be ${p.name}, got ${v}`;
    if (p.kind !== 'number') continue;
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n < 0) return `${kind}: ${p.what ?? p.name} must be a number, got ${v}`;
  }
  return undefined;
}

/** Whether a backend can do the kind: true, or why not. `can`: the live capabilities; without them, what the backend kind allows at best. */
export function supported(spec: FaultSpec, backend: BackendKind, can?: Record<Primitive, Support>): Support {
  if (!spec.needs) return true;
  if (can) return can[spec.needs];
  if (spec.needs === 'clock') return backend === 'docker' ? { reason: 'the instance image has no faketime' } : true;
  return backend === 'local' ? { reason: "local nodes share this machine's network stack" } : true;
}

/** The kinds chaos may draw: every row with a chaos use. */
export function chaosKinds(catalogue: Catalogue = CATALOGUE): string[] {
  return Object.keys(catalogue).filter((k) => catalogue[k].chaos);
}

/** Chaos's default kinds (the recorded seeds' set), in catalogue order. */
export function defaultChaosKinds(catalogue: Catalogue = CATALOGUE): string[] {
  return chaosKinds(catalogue).filter((k) => catalogue[k].chaos?.byDefault);
}

/** `--faults all`: every chaos kind the backend supports. */
export function chaosKindsFor(backend: BackendKind, can?: Record<Primitive, Support>, catalogue: Catalogue = CATALOGUE): string[] {
  return chaosKinds(catalogue).filter((k) => supported(catalogue[k], backend, can) === true);
}
