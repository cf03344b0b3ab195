// What every instance program shares: its configuration (JSON in $MIROS_INSTANCE), the
// control protocol with the scenario runner, and the chart's life cycle.
//   stdout: snoop lines as the chart prints them, and control lines "@@TAG {json}"
//   stdin:  one JSON command a line: {"cmd":"go"|"post"|"transmit"|"scribble"|"keys"|"stop", ...}
//           {"cmd":"keys","network":"mesh","keys":[K1,K2]} replaces a network's key list while
//           running (chart.useEncryptionKeys; without "keys" it only reports) and answers
//           "@@KEYS {network, before, after}": key fingerprints with their decryption counts
import { writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import {
  Event,
  NetworkedActiveObject,
  NetworkedFactory,
  type NetworkedOptions,
  type State,
} from '../../runtime/index.ts';
import { formatSpy, spyBody } from '../../runtime/net/snoop-format.ts';
import type { ClientTlsFiles } from '../tls/client-settings.ts';
import { sleep } from '../util/wait.ts';

export interface InstanceConfig {
  name: string;
  /** This instance's broker address, and every broker it is told about. */
  host: string;
  hosts: string[];
  user: string;
  password: string;
  meshKey: string;
  traceKey: string;
  spyKey: string;
  tx: string;
  rx: string;
  /** Snoop switches: 'color' (enableSnoopX) or 'plain' (enableSnoopXNoColor). */
  trace?: 'color' | 'plain';
  spy?: 'color' | 'plain';
  clusterFile?: string;
  rediscoverIntervalMs?: number;
  /** The chart's local evidence file (<name>.jsonl, see runtime/net/evidence.ts). */
  evidenceFile?: string;
  /** At stop, the chart's own spy lines (chart.spy()) go here as " [+s] NAME line". */
  spyFile?: string;
  /** Chart-kind specific settings. */
  params?: Record<string, any>;
  /** amqps://: the CA to verify brokers against, and a client certificate for mutual TLS (PEM paths). */
  tls?: ClientTlsFiles;
}

export interface Command {
  cmd: string;
  signal?: string;
  payload?: unknown;
  text?: string;
  /** "keys": the network (default mesh) and its new key list, encrypting key first. */
  network?: 'mesh' | 'trace' | 'spy';
  keys?: string[];
}

export const CONTROL = '@@';

export function control(tag: string, data: unknown = {}): void {
  process.stdout.write(`${CONTROL}${tag} ${JSON.stringify(data)}\n`);
}

export function readConfig(): InstanceConfig {
  const raw = process.env.MIROS_INSTANCE;
  if (!raw) throw new Error('an instance needs its configuration as JSON in $MIROS_INSTANCE');
  return JSON.parse(raw) as InstanceConfig;
}

export function netOptions(cfg: InstanceConfig): NetworkedOptions {
  return {
    rabbitUser: cfg.user,
    rabbitPassword: cfg.password,
    meshEncryptionKey: cfg.meshKey,
    snoopTraceEncryptionKey: cfg.traceKey,
    snoopSpyEncryptionKey: cfg.spyKey,
    txRoutingKey: cfg.tx,
    rxRoutingKey: cfg.rx,
    hosts: cfg.hosts,
    thisAddress: cfg.host,
    clusterFile: cfg.clusterFile,
    ...(cfg.tls ? { rabbitTls: true, rabbitTlsCa: cfg.tls.ca, rabbitTlsCert: cfg.tls.cert, rabbitTlsKey: cfg.tls.key } : {}),
    rediscoverIntervalMs: cfg.rediscoverIntervalMs,
    evidenceFile: cfg.evidenceFile,
    startTimeoutMs: 20_000,
    output: (line) => process.stdout.write(`${line}\n`),
    onWarning: (message) => {
      process.stderr.write(`warning: ${message}\n`);
      control('WARN', { message });
    },
  };
}

export type Chart = NetworkedActiveObject | NetworkedFactory;

/**
 * Builds the chart, starts it at `initial`, says READY, then obeys stdin until "stop"
 * (or SIGTERM / end of stdin): STATS, the spy file, a clean stop, exit 0.
 */
export async function runInstance(
  cfg: InstanceConfig,
  initial: State,
  opts: { kind?: 'ao' | 'factory'; onCommand?: (chart: Chart, c: Command) => void; setup?: (chart: Chart) => void } = {},
): Promise<void> {
  const options = netOptions(cfg);
  const chart: Chart = opts.kind === 'factory' ? new NetworkedFactory(cfg.name, options) : new NetworkedActiveObject(cfg.name, options);
  (chart as any).config = cfg;
  if (cfg.trace === 'color') chart.enableSnoopTrace(true); // into a pipe: the scenario checks the colours
  if (cfg.trace === 'plain') chart.enableSnoopTraceNoColor();
  if (cfg.spy === 'color') chart.enableSnoopSpy(true);
  if (cfg.spy === 'plain') chart.enableSnoopSpyNoColor();
  opts.setup?.(chart);
  await chart.startAt(initial);
  control('READY', { name: cfg.name, hosts: chart.lan.addresses });

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await sleep(100); // let the chart finish its queue
    if (cfg.spyFile) {
      // as the spy network prints them (plain), so distributed.log can be compared line for line
      const lines = (chart.spy() ?? []).map((l) => formatSpy(spyBody(cfg.name, l), cfg.name, true, false));
      writeFileSync(cfg.spyFile, lines.length ? `${lines.join('\n')}\n` : '');
    }
    control('STATS', chart.networkStats());
    await chart.stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    if (!line.trim()) return;
    let c: Command;
    try {
      c = JSON.parse(line) as Command;
    } catch {
      process.stderr.write(`error: not a command: ${line}\n`);
      return;
    }
    if (c.cmd === 'stop') return void stop();
    if (c.cmd === 'post') chart.postFifo(new Event(c.signal!, c.payload));
    else if (c.cmd === 'transmit') chart.transmit(new Event(c.signal!, c.payload));
    else if (c.cmd === 'scribble') chart.snoopScribble(c.text ?? '');
    else if (c.cmd === 'keys') {
      const network = c.network ?? 'mesh';
      const before = chart.nets.keyUsage(network);
      try {
        if (c.keys) chart.useEncryptionKeys(network, c.keys);
        control('KEYS', { network, before, after: chart.nets.keyUsage(network) });
      } catch (err) {
        control('KEYS', { network, error: (err as Error).message });
      }
    }
    else opts.onCommand?.(chart, c);
  });
  rl.on('close', () => void stop());
}
