// `mirosnet snoop`: the library's SnoopObserver (a passive observer of the trace and spy
// networks: no chart, no mesh, nothing sent) with its lines counted and written to a file,
// a callback or stdout.
import { randomBytes } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { SnoopObserver, type ColorSetting, type NetworkCounters, type SnoopNetwork, type SnoopRecord, type TlsOptions } from '../../runtime/index.ts';
import { jsonlBeside, openJsonlSink, type JsonlSink } from './jsonl-sink.ts';

export interface SnoopListenerOptions {
  /** Broker to consume from (default: thisAddress as the library resolves it, else 127.0.0.1). */
  host?: string;
  rabbitUser?: string;
  rabbitPassword?: string;
  /** Default: SNOOP_TRACE_ENCRYPTION_KEY / SNOOP_SPY_ENCRYPTION_KEY from the environment or .env. */
  traceKey?: string;
  spyKey?: string;
  networks?: SnoopNetwork[];
  /** Default: 'auto' (a terminal, unless NO_COLOR) when the lines go to stdout; plain into a file or a callback. */
  color?: ColorSetting;
  /** File to append the lines to; default: the `line` callback only (or stdout). */
  out?: string;
  /** File to append the records to (distributed.jsonl); default: beside `out` (x.log → x.jsonl); false: none. */
  jsonl?: string | false;
  /** Gets every record (mesh records included). */
  record?: (record: SnoopRecord) => void;
  line?: (line: string) => void;
  onWarning?: (message: string) => void;
  startTimeoutMs?: number;
  /** Queue name suffix (default snoop-<random>). */
  name?: string;
  /** amqps:// (default: RABBIT_TLS* from the environment or .env). */
  tls?: TlsOptions;
}

export interface SnoopListener {
  readonly name: string;
  readonly host: string;
  readonly lines: number;
  /** The records file, if any. */
  readonly jsonl: string | undefined;
  counters(): Record<SnoopNetwork, NetworkCounters>;
  /** Stops consuming, deletes its queues, flushes the file. */
  stop(): Promise<void>;
}

export async function startSnoopListener(opts: SnoopListenerOptions = {}): Promise<SnoopListener> {
  let file: WriteStream | undefined;
  const emit =
    opts.line ??
    ((l: string) => {
      if (!file) process.stdout.write(`${l}\n`); // with a file and no callback: the file only
    });
  let count = 0;
  let sink: JsonlSink | undefined;
  const jsonlPath = opts.jsonl === false ? undefined : (opts.jsonl ?? (opts.out ? jsonlBeside(opts.out) : undefined));
  const observer = new SnoopObserver(opts.name ?? `snoop-${randomBytes(3).toString('hex')}`, {
    rabbitUser: opts.rabbitUser,
    rabbitPassword: opts.rabbitPassword,
    snoopTraceEncryptionKey: opts.traceKey,
    snoopSpyEncryptionKey: opts.spyKey,
    thisAddress: opts.host,
    ...opts.tls,
    startTimeoutMs: opts.startTimeoutMs ?? 20_000,
    networks: opts.networks,
    color: opts.color ?? (opts.line || opts.out ? false : 'auto'),
    onWarning: opts.onWarning,
    line: (l) => {
      count++;
      file?.write(`${l}\n`);
      emit(l);
    },
    record: (r) => {
      sink?.write(r);
      opts.record?.(r);
    },
  });
  if (opts.out) file = createWriteStream(opts.out, { flags: 'a', mode: 0o600 }); // not before the settings checked out
  if (jsonlPath) sink = openJsonlSink(jsonlPath);
  await observer.start();
  let stopped = false;
  return {
    name: observer.name,
    host: observer.host,
    get lines() {
      return count;
    },
    jsonl: jsonlPath,
    counters: () => observer.counters(),
    async stop() {
      if (stopped) return;
      stopped = true;
      await observer.stop();
      if (file) await new Promise((r) => file!.end(r));
      await sink?.close();
    },
  };
}
