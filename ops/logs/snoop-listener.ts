// A passive observer of the snoop networks: no chart, no mesh, nothing sent. It consumes
// the trace and spy networks from one broker (every node publishes its snoop lines to
// every broker it knows, so one broker on their host lists is enough) and prints each
// line as a monitoring chart with enableSnoopTraceNoColor() / enableSnoopSpyNoColor()
// would (with colour: every sender is remote, so purple).
import { randomBytes } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { amqpUrl, resolveNetConfig, type NetOptions } from '../../runtime/index.ts';
import { BrokerUnreachableError, maskUrlPassword } from '../../runtime/net/errors.ts';
import { Fernet } from '../../runtime/net/fernet.ts';
import { Receiver, type NetworkCounters } from '../../runtime/net/receiver.ts';
import { colorScribble, formatSpy, formatTrace } from '../../runtime/net/snoop-format.ts';
import { SNOOP_ROUTING_KEYS, SNOOP_SIGNALS } from '../../runtime/net/topology.ts';

export interface SnoopListenerOptions {
  /** Broker to consume from (default: thisAddress as the library resolves it, else 127.0.0.1). */
  host?: string;
  rabbitUser?: string;
  rabbitPassword?: string;
  /** Default: SNOOP_TRACE_ENCRYPTION_KEY / SNOOP_SPY_ENCRYPTION_KEY from the environment or .env. */
  traceKey?: string;
  spyKey?: string;
  networks?: ('trace' | 'spy')[];
  color?: boolean;
  /** File to append the lines to; default: the `line` callback only (or stdout). */
  out?: string;
  line?: (line: string) => void;
  onWarning?: (message: string) => void;
  startTimeoutMs?: number;
  /** Queue name suffix (default snoop-<random>). */
  name?: string;
}

export interface SnoopListener {
  readonly name: string;
  readonly host: string;
  readonly lines: number;
  counters(): Record<'trace' | 'spy', NetworkCounters>;
  /** Stops consuming, deletes its queues, flushes the file. */
  stop(): Promise<void>;
}

export async function startSnoopListener(opts: SnoopListenerOptions = {}): Promise<SnoopListener> {
  const netOpts: NetOptions = {
    rabbitUser: opts.rabbitUser,
    rabbitPassword: opts.rabbitPassword,
    snoopTraceEncryptionKey: opts.traceKey,
    snoopSpyEncryptionKey: opts.spyKey,
    thisAddress: opts.host,
  };
  // the listener never joins the mesh: the mesh key only matters as the fallback of a snoop key
  const config = resolveNetConfig(netOpts, process.env, { meshKeyRequired: false });
  const host = opts.host ?? config.thisAddress ?? '127.0.0.1';
  const name = opts.name ?? `snoop-${randomBytes(3).toString('hex')}`;
  const url = amqpUrl(config, host);
  const color = opts.color ?? false;
  let file: WriteStream | undefined;
  if (opts.out) file = createWriteStream(opts.out, { flags: 'a' });
  const emit = opts.line ?? (file ? () => undefined : (l: string) => process.stdout.write(`${l}\n`));
  let count = 0;
  const write = (l: string) => {
    count++;
    file?.write(`${l}\n`);
    emit(l);
  };
  const networks = opts.networks ?? ['trace', 'spy'];
  const keys = { trace: config.snoopTraceEncryptionKey, spy: config.snoopSpyEncryptionKey };
  const receiver = new Receiver({
    url,
    label: maskUrlPassword(url),
    chartName: name,
    heartbeat: config.heartbeatInterval,
    backlog: () => 0,
    onDrop: opts.onWarning ?? ((m) => process.stderr.write(`snoop: ${m}\n`)),
    subscriptions: networks.map((network) => ({
      network,
      bindingKey: SNOOP_ROUTING_KEYS[network],
      fernet: new Fernet(keys[network]),
      deliver: (e) => {
        let body = typeof e.payload === 'string' ? e.payload : JSON.stringify(e.payload);
        if (color && e.signal === SNOOP_SIGNALS.scribble) body = colorScribble(body, e.sender);
        write(network === 'trace' ? formatTrace(body, e.sender, false, color) : formatSpy(body, e.sender, false, color));
      },
    })),
  });
  const timeoutMs = opts.startTimeoutMs ?? 20_000;
  try {
    await receiver.open(timeoutMs);
  } catch (err) {
    throw new BrokerUnreachableError(
      url,
      `cannot consume the snoop networks from ${maskUrlPassword(url)}: ${(err as Error).message}. ` +
        `Is RabbitMQ running on ${host} (make cluster) and are the user and password right?`,
      { cause: err },
    );
  }
  let stopped = false;
  return {
    name,
    host,
    get lines() {
      return count;
    },
    counters: () => ({ trace: receiver.counters.trace, spy: receiver.counters.spy }),
    async stop() {
      if (stopped) return;
      stopped = true;
      await receiver.close(true);
      if (file) await new Promise((r) => file!.end(r));
    },
  };
}
