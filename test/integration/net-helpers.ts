// Helpers for the networked-layer integration tests: real charts on the real brokers of
// the shared local cluster (test/setup/cluster.ts writes MIROS_CLUSTER_FILE).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { readClusterFile, type ClusterNode } from '../../runtime/lan/index.ts';
import {
  Event,
  NetworkedActiveObject,
  NetworkedFactory,
  ReturnStatus,
  generateKey,
  signals,
  type NetworkStats,
  type NetworkedOptions,
} from '../../runtime/index.ts';

export const RUN = randomBytes(3).toString('hex');
export const MESH_KEY = generateKey();

export function brokers(): ClusterNode[] {
  const file = process.env.MIROS_CLUSTER_FILE ?? join(process.cwd(), '.cluster', 'cluster.json');
  const { nodes } = readClusterFile(file);
  if (nodes.length < 3) throw new Error(`the integration tests need 3 brokers, ${file} lists ${nodes.length}`);
  return nodes;
}

/** A chart that records every user event it gets, and toggles idle <-> busy on GO. */
export interface Recorder {
  chart: NetworkedActiveObject | NetworkedFactory;
  received: Event[];
  lines: string[];
  warnings: string[];
}

export function idle(chart: any, e: Event): ReturnStatus {
  if (e.signalName === 'GO') return chart.trans(busy);
  return record(chart, e) ?? chart.super(chart.top);
}

export function busy(chart: any, e: Event): ReturnStatus {
  if (e.signalName === 'GO') return chart.trans(idle);
  return record(chart, e) ?? chart.super(chart.top);
}

function record(chart: any, e: Event): ReturnStatus | undefined {
  if (signals.isInner(e.signal)) return undefined;
  chart.recorder?.received.push(e);
  return ReturnStatus.HANDLED;
}

export function makeNode(
  name: string,
  brokerIndex: number,
  options: NetworkedOptions = {},
  kind: 'ao' | 'factory' = 'ao',
): Recorder {
  const all = brokers();
  const lines: string[] = [];
  const warnings: string[] = [];
  const opts: NetworkedOptions = {
    rabbitUser: 'peter',
    rabbitPassword: 'rabbit',
    meshEncryptionKey: MESH_KEY,
    txRoutingKey: 'heya.man',
    rxRoutingKey: '#.man',
    hosts: all.slice(0, 3).map((n) => n.host), // the tests are written for 3 brokers; the cluster may have more
    thisAddress: all[brokerIndex].host,
    startTimeoutMs: 20_000,
    output: (line) => lines.push(line),
    onWarning: (message) => warnings.push(message),
    ...options,
  };
  const chart = kind === 'ao' ? new NetworkedActiveObject(`${name}-${RUN}`, opts) : new NetworkedFactory(`${name}-${RUN}`, opts);
  const recorder: Recorder = { chart, received: [], lines, warnings };
  (chart as any).recorder = recorder;
  created.push(recorder);
  return recorder;
}

const created: Recorder[] = [];

/** afterEach(stopCreated): every node made since the last call leaves (its queues deleted: the testbed stays clean). */
export async function stopCreated(): Promise<void> {
  await Promise.all(created.splice(0).map((n) => n.chart.leave()));
}

const RECEIVER = new URL('./fixtures/slow-receiver.mjs', import.meta.url).pathname;

/** A receiving chart in a process of its own (fixtures/slow-receiver.mjs) on broker 2. */
export interface ReceiverChild {
  process: ChildProcess;
  /** The n of every SEQ event its chart handled, in order. */
  got: number[];
  /** Its networkStats() lines (printed when it stops). */
  stats: NetworkStats[];
  ready: Promise<void>;
}

const children: ChildProcess[] = [];

export function startReceiver(name: string, extra: { busyMs: number; messageTtl?: number } = { busyMs: 0 }): ReceiverChild {
  const all = brokers();
  const settings = { name, thisAddress: all[1].host, hosts: all.slice(0, 3).map((n) => n.host), meshEncryptionKey: MESH_KEY, ...extra };
  const p = spawn(process.execPath, [RECEIVER, JSON.stringify(settings)], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(p);
  const child: ReceiverChild = { process: p, got: [], stats: [], ready: Promise.resolve() };
  let markReady: () => void = () => undefined;
  child.ready = new Promise((resolve, reject) => {
    markReady = resolve;
    p.once('exit', (code) => reject(new Error(`receiver exited (${code}) before it was ready`)));
  });
  createInterface({ input: p.stdout! }).on('line', (line) => {
    if (line === 'READY') markReady();
    else if (line.startsWith('GOT ')) child.got.push(Number(line.slice(4)));
    else if (line.startsWith('STATS ')) child.stats.push(JSON.parse(line.slice(6)) as NetworkStats);
  });
  return child;
}

/** Sends `sig` to the receiver and resolves to its exit code. */
export async function signalReceiver(child: ReceiverChild, sig: NodeJS.Signals): Promise<number | null> {
  const exited = once(child.process, 'exit') as Promise<[number | null]>;
  child.process.kill(sig);
  return (await exited)[0];
}

/** afterEach: SIGKILL every receiver process still running. */
export function killReceivers(): void {
  for (const p of children.splice(0)) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
}
