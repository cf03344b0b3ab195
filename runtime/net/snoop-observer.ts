// A passive observer of the snoop networks: no chart, no mesh, nothing sent. It consumes
// the trace and spy networks from one broker (every node publishes its snoop lines to
// every broker it knows, so one broker on their host lists is enough) and renders each
// line as a monitoring chart with enableSnoopTraceNoColor() / enableSnoopSpyNoColor()
// would (with colour: every sender is remote, so purple).
import { amqpUrl, resolveNetConfig, type NetOptions } from './config.ts';
import { resolveSecurity, type SecurityOptions } from './security-options.ts';
import { BrokerUnreachableError, maskUrlPassword } from './errors.ts';
import { connectionName } from './connection.ts';
import { KeyRing } from './key-ring.ts';
import { Receiver, type NetworkCounters } from './receiver.ts';
import { formatSnoopLine } from './snoop-format.ts';
import { useColor, type ColorSetting } from './color.ts';
import { MESH_RECORD_BINDING, isMeshRecordSignal, snoopRecord, type SnoopRecord } from './snoop-record.ts';
import { SNOOP_ROUTING_KEYS } from './topology.ts';

export type SnoopNetwork = 'trace' | 'spy';

/**
 * Settings are resolved like a chart's (option, environment, `.env`); no mesh key is needed
 * when a snoop key is set. `thisAddress` is the broker to consume from (default 127.0.0.1).
 */
export interface SnoopObserverOptions
  extends Pick<
    NetOptions,
    | 'rabbitUser'
    | 'rabbitPassword'
    | 'rabbitPort'
    | 'heartbeatInterval'
    | 'meshEncryptionKey'
    | 'snoopTraceEncryptionKey'
    | 'snoopSpyEncryptionKey'
    | 'thisAddress'
    | 'startTimeoutMs'
    | 'rabbitTls'
    | 'rabbitTlsCa'
    | 'rabbitTlsCert'
    | 'rabbitTlsKey'
  >,
    Pick<SecurityOptions, 'acceptUnbound' | 'clockSkewMs'> {
  /** Default both. */
  networks?: SnoopNetwork[];
  /**
   * Colour the senders' names like a chart's enableSnoopTrace(): `true`, `false`, or `'auto'`
   * (default: when stdout is a terminal and NO_COLOR is not set).
   */
  color?: ColorSetting;
  /** Gets every line. */
  line: (line: string) => void;
  /** Gets the structured record of every message, the trace network's mesh records included (which make no line). */
  record?: (record: SnoopRecord) => void;
  /** Told once per sender and reason about dropped messages (default: stderr). */
  onWarning?: (message: string) => void;
}

export class SnoopObserver {
  /** The broker it consumes from. */
  readonly host: string;
  readonly #url: string;
  readonly #timeoutMs: number;
  readonly #receiver: Receiver;

  /** `name` names its queues, like a chart's. Resolves the settings (ConfigError); no network I/O. */
  constructor(
    readonly name: string,
    options: SnoopObserverOptions,
  ) {
    // it never joins the mesh: the mesh key only matters as the fallback of a snoop key
    const config = resolveNetConfig(options, process.env, { meshKeyRequired: false });
    this.host = config.thisAddress ?? '127.0.0.1';
    this.#url = amqpUrl(config, this.host);
    this.#timeoutMs = config.startTimeoutMs;
    const keys = config.encryptionKeys;
    const color = useColor(options.color, process.stdout.isTTY);
    const security = resolveSecurity({ acceptUnbound: options.acceptUnbound, clockSkewMs: options.clockSkewMs });
    this.#receiver = new Receiver({
      urls: [this.#url],
      label: maskUrlPassword(this.#url),
      chartName: name,
      host: this.host,
      topology: config.topology,
      messageTtl: config.messageTtl,
      clockSkewMs: security.clockSkewMs,
      acceptUnbound: security.acceptUnbound,
      heartbeat: config.heartbeatInterval,
      connectionName: connectionName('snoop', config.processName, this.host),
      ...(config.tls ? { tls: config.tls.socket } : {}),
      onDrop: options.onWarning ?? ((m) => process.stderr.write(`snoop: ${m}\n`)),
      subscriptions: (options.networks ?? ['trace', 'spy']).map((network) => ({
        network,
        bindingKey: network === 'trace' && options.record ? MESH_RECORD_BINDING : SNOOP_ROUTING_KEYS[network],
        fernet: new KeyRing(keys[network]),
        deliver: (e, handled) => {
          handled();
          if (options.record) {
            const record = snoopRecord(network, e);
            if (record) options.record(record);
          }
          if (!isMeshRecordSignal(e.signal)) options.line(formatSnoopLine(network, e, false, color));
        },
      })),
    });
  }

  /** Consumes from its broker; BrokerUnreachableError if that fails within startTimeoutMs. */
  async start(): Promise<void> {
    try {
      await this.#receiver.open(this.#timeoutMs);
    } catch (err) {
      throw new BrokerUnreachableError(
        this.#url,
        `cannot consume the snoop networks from ${maskUrlPassword(this.#url)}: ${(err as Error).message}. ` +
          `Is RabbitMQ running on ${this.host} (make cluster) and are the user and password right?`,
        { cause: err },
      );
    }
  }

  /** Received, delivered, duplicate and dropped messages per network. */
  counters(): Record<SnoopNetwork, NetworkCounters> {
    return { trace: this.#receiver.counters.trace, spy: this.#receiver.counters.spy };
  }

  /** Stops consuming and deletes its queues. */
  async stop(): Promise<void> {
    await this.#receiver.close(true);
  }
}
