// What every instance program shares: its configuration (JSON in $MIROS_INSTANCE), the
// control protocol with the scenario runner (protocol.ts: what it emits, the commands it
// takes), and the chart's life cycle.
//   stdout: snoop lines as the chart prints them, and control lines "@@TAG {json}"
//   stdin:  one JSON command a line: {"cmd":"go"|"post"|"transmit"|"scribble"|"keys"|"stop"|"leave", ...}
//           ("stop" and SIGTERM keep the chart's queues for its restart; "leave", sent at the end
//           of a run, deletes them: docs/stop-and-leave.md)
//           {"cmd":"keys","network":"mesh","keys":[K1,K2]} replaces a network's key list while
//           running (chart.useEncryptionKeys; without "keys" it only reports) and answers
//           "@@KEYS {network, before, after}": key fingerprints with their decryption counts
// This folder depends on the runtime only: the runner hands it everything else in the config.
import { writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import {
  Event,
  MetricsUnavailableError,
  NetworkedActiveObject,
  NetworkedFactory,
  loadPromClient,
  type MetricsOptions,
  type NetworkedOptions,
  type State,
} from '../../runtime/index.ts';
import { formatSpy, spyBody } from '../../runtime/net/snoop-format.ts';
import { within } from '../util/wait.ts';
import { type InstanceCommand, type InstanceEmits, type InstanceTag, controlLine, parseCommand } from './protocol.ts';

export { CONTROL } from './protocol.ts';

/** How long a stopping instance waits for its chart to work through its queue. */
const IDLE_WAIT_MS = 2000;
/** The commands an instance takes (protocol.ts). */
export type Command = InstanceCommand;

/** PEM paths for an instance's TLS client: the CA, and a client certificate for mutual TLS. */
export interface ClientTlsFiles {
  ca: string;
  cert?: string;
  key?: string;
}

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
  /** Chart-kind specific settings (read them with param()). */
  params?: Record<string, unknown>;
  /** false: no Prometheus metrics (default: on port 0 of `host` when prom-client is installed; READY says the port). */
  metrics?: false;
  /** amqps://: the CA to verify brokers against, and a client certificate for mutual TLS (PEM paths). */
  tls?: ClientTlsFiles;
}

/** Writes a control line: a tag of the protocol with its data, or a tag of your own program's. */
export function control<T extends InstanceTag>(tag: T, data: InstanceEmits[T]): void;
export function control<T extends string>(tag: T extends InstanceTag ? never : T, data?: unknown): void;
export function control(tag: string, data: unknown = {}): void {
  process.stdout.write(controlLine(tag, data));
}

// Control lines are the run's evidence of what the chart did (chaos: an event handled, then
// acked): Node queues pipe writes in memory while the runner lags, and a SIGKILL loses them.
// Blocking writes: a line is in the pipe before the step that wrote it ends.
(process.stdout as { _handle?: { setBlocking?: (on: boolean) => void } })._handle?.setBlocking?.(true);

/** A chart-kind setting from the config's params, of the type of its default; a value of another type is an error that names it. */
export function param<T extends number | boolean | string | object>(cfg: InstanceConfig, name: string, dflt: T): T {
  const v = cfg.params?.[name];
  if (v === undefined) return dflt;
  if (typeof v !== typeof dflt || (v === null) !== (dflt === null)) throw new Error(`${cfg.name}: params.${name} must be a ${typeof dflt}, got ${JSON.stringify(v)}`);
  return v as T;
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
    // its connections are named after the instance ("miros/pub NAME[pid]@host"): drop-connections finds them
    processName: cfg.name,
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
 * The chart's Prometheus metrics on port 0 of the instance's address (so any number of
 * instances share a host), reported in READY as metricsPort; none when the config says
 * metrics: false or prom-client is not installed (said once as a WARN).
 */
async function metricsOption(cfg: InstanceConfig): Promise<MetricsOptions | undefined> {
  if (cfg.metrics === false) return undefined;
  try {
    await loadPromClient();
    return { port: 0, host: cfg.host };
  } catch (err) {
    if (!(err instanceof MetricsUnavailableError)) throw err;
    control('WARN', { message: `no metrics: ${err.message}` });
    return undefined;
  }
}

/**
 * Builds the chart, starts it at `initial`, says READY, then obeys stdin until "stop"
 * (or SIGTERM / end of stdin): STATS, the spy file, a clean stop, exit 0.
 */
export async function runInstance(
  cfg: InstanceConfig,
  initial: State,
  opts: { kind?: 'ao' | 'factory'; onCommand?: (chart: Chart, c: Command) => void; setup?: (chart: Chart) => void } = {},
): Promise<void> {
  const metrics = await metricsOption(cfg);
  const options = { ...netOptions(cfg), ...(metrics ? { metrics } : {}) };
  const chart: Chart = opts.kind === 'factory' ? new NetworkedFactory(cfg.name, options) : new NetworkedActiveObject(cfg.name, options);
  if (cfg.trace === 'color') chart.enableSnoopTrace(true); // into a pipe: the scenario checks the colours
  if (cfg.trace === 'plain') chart.enableSnoopTraceNoColor();
  if (cfg.spy === 'color') chart.enableSnoopSpy(true);
  if (cfg.spy === 'plain') chart.enableSnoopSpyNoColor();
  opts.setup?.(chart);
  await chart.startAt(initial);
  control('READY', { name: cfg.name, hosts: chart.lan.addresses, ...(chart.metricsPort() !== undefined ? { metricsPort: chart.metricsPort() } : {}) });

  let stopping = false;
  const stop = async (leave = false) => {
    if (stopping) return;
    stopping = true;
    // let the chart finish its queue (bounded: a chart flooded by the mesh may never be idle)
    await within(IDLE_WAIT_MS, chart.drained());
    if (cfg.spyFile) {
      // as the spy network prints them (plain), so distributed.log can be compared line for line
      const lines = (chart.spy() ?? []).map((l) => formatSpy(spyBody(cfg.name, l), cfg.name, true, false));
      writeFileSync(cfg.spyFile, lines.length ? `${lines.join('\n')}\n` : '');
    }
    control('STATS', chart.networkStats());
    await chart.stop({ leave });
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    if (!line.trim()) return;
    const c = parseCommand(line);
    if ('error' in c) {
      process.stderr.write(`error: ${c.error}\n`);
      return;
    }
    if (c.cmd === 'stop' || c.cmd === 'leave') return void stop(c.cmd === 'leave');
    if (c.cmd === 'post') chart.postFifo(new Event(c.signal, c.payload));
    else if (c.cmd === 'transmit') chart.transmit(new Event(c.signal, c.payload));
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
