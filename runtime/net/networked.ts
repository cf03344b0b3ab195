// NetworkedActiveObject and NetworkedFactory: explicit classes over the engine's ActiveObject.
// Everything networked is delegated to a MirosNets (composition), and NetworkedFactory adds
// the engine's StateTable. Constructors do no network I/O; `await chart.startAt(state)` connects.
import { ActiveObject, StateTable, type Event, type SignalHandler, type State, type StateBlueprint } from '../hsm/index.ts';
import type { ColorSetting } from './color.ts';
import type { KeyListInput } from './key-ring.ts';
import { MirosNets, type Lan, type NetworkStats, type NetworkedOptions, type StopOptions } from './miros-nets.ts';
import type { NetworkName } from './topology.ts';
import type { Transmission } from './transmission.ts';

/** An ActiveObject on the mesh and snoop networks (miros-rabbitmq's NetworkedActiveObject). */
export class NetworkedActiveObject extends ActiveObject {
  /** The networked layer of this chart (links, receiver, discovery, counters). */
  readonly nets: MirosNets;

  constructor(name: string, options: NetworkedOptions = {}) {
    super({ name: requireName(name), maxlen: Infinity, ...(options.environment ? { environment: options.environment } : {}) });
    this.nets = new MirosNets(this, options);
  }

  /** `lan.this.address`, `lan.other.addresses`, `lan.addresses` (filled by startAt). */
  get lan(): Lan {
    return this.nets.lan;
  }

  /** Finds the brokers, joins the enabled networks, then starts the chart. */
  override async startAt(initialState: State): Promise<void> {
    await this.nets.start(() => super.startAt(initialState));
  }

  /** One RTC step; a received mesh event first ticks the chart's Lamport clock (and is recorded). */
  override nextRtc(): boolean {
    const next = this.queue.at(0);
    if (next) this.nets.beforeDispatch(next);
    const metrics = this.nets.metrics;
    if (!metrics) return super.nextRtc();
    const start = this.env.monotonicMs();
    const stepped = super.nextRtc();
    if (stepped) metrics.step(this.env.monotonicMs() - start);
    return stepped;
  }

  /** The port GET /metrics is served on (the metrics option with a port), once startAt has begun. */
  metricsPort(): number | undefined {
    return this.nets.metrics?.port;
  }

  /**
   * Sends `event` to every other chart on the mesh whose rxRoutingKey matches our txRoutingKey.
   * The returned handle's `settled` resolves once every broker has confirmed it (or given up on it);
   * ignore it unless the application needs to know.
   */
  transmit(event: Event): Transmission {
    return this.nets.transmit(event);
  }

  /** A received mesh event is acked to its broker only once its run-to-completion step has ended. */
  protected override onEventHandled(e: Event): void {
    this.nets.eventHandled(e);
  }

  /**
   * Prints every trace-enabled chart's trace lines, this chart's name blue and the others'
   * purple when coloured: `'auto'` (default) colours a terminal unless NO_COLOR is set,
   * `true` always, `false` never (as enableSnoopTraceNoColor).
   */
  enableSnoopTrace(color: ColorSetting = 'auto'): void {
    this.nets.enableSnoop('trace', this.nets.colorMode(color));
  }

  /** Spy lines likewise; `color` as for enableSnoopTrace. */
  enableSnoopSpy(color: ColorSetting = 'auto'): void {
    this.nets.enableSnoop('spy', this.nets.colorMode(color));
  }

  enableSnoopTraceNoColor(): void {
    this.nets.enableSnoop('trace', 'plain');
  }

  enableSnoopSpyNoColor(): void {
    this.nets.enableSnoop('spy', 'plain');
  }

  /** Writes "[ts] [name] # message" to the trace network, else the spy network, else the local spy. */
  snoopScribble(message: string): void {
    this.nets.snoopScribble(message);
  }

  /** amqp://user:pass@IP:5672/%2F?connection_attempts=3&heartbeat_interval=3600 of this host. */
  thisUrl(): string {
    return this.nets.thisUrl();
  }

  otherUrls(): string[] {
    return this.nets.otherUrls();
  }

  /**
   * Replaces the key list of a network while the chart runs: the first key encrypts, every
   * key decrypts. Rotate in two steps across all charts: [old, new] everywhere, then [new, old]
   * everywhere (then [new] once no old token is left). README "Rotating keys".
   */
  useEncryptionKeys(network: NetworkName, keys: KeyListInput): void {
    this.nets.useKeys(network, keys);
  }

  /** Counters per network (received, delivered, dropped by reason, duplicates, sent) and per broker. */
  networkStats(): NetworkStats {
    return this.nets.stats();
  }

  /**
   * Stops the chart, then closes every connection (waiting briefly for unconfirmed events).
   * Its queues stay for a restart (queueExpiresMs, default 10 min), so nothing sent to it
   * meanwhile is lost; `{ leave: true }` (or leave()) deletes them. docs/stop-and-leave.md.
   */
  override async stop(options: StopOptions = {}): Promise<void> {
    await super.stop();
    await this.nets.stop(options);
  }

  /** Stops the chart for good: stop(), and its queues are deleted (it leaves the mesh). */
  async leave(): Promise<void> {
    await this.stop({ leave: true });
  }
}

/**
 * A networked chart whose states are built from handler tables (miros-rabbitmq's
 * NetworkedFactory): the networked layer of NetworkedActiveObject plus the state
 * table of the engine's Factory (the same StateTable, so both build states alike).
 */
export class NetworkedFactory extends NetworkedActiveObject {
  readonly #table: StateTable<this>;

  constructor(name: string, options: NetworkedOptions = {}) {
    super(name, options);
    this.#table = new StateTable<this>(this.top);
  }

  /** Every state built by `toMethod`, by name. */
  get states(): Record<string, State<this>> {
    return this.#table.states;
  }

  /** A builder whose handlers get this chart (typed as its class, so `transmit` is there). */
  createState(name: string): StateBlueprint<this> {
    return this.#table.createState(name);
  }

  /** Sets the parent of `child` (null → top). Chainable. */
  nest(child: State | string, parent: State | string | null): this {
    this.#table.nest(child, parent);
    return this;
  }

  /** The handler table of a state (signal name → handler), for inspection. */
  handlersOf(stateOrName: State | string): Record<string, SignalHandler<this>> {
    return this.#table.handlersOf(stateOrName);
  }

  /** Finds the brokers, joins the enabled networks, then starts at a state function or a built state's name. */
  override async startAt(initialState: State | string): Promise<void> {
    await super.startAt(this.#table.resolve(initialState));
  }
}

// The queue of a networked chart is not a dropping ring buffer (miros's deque of 500):
// the receiver's flow control bounds it instead, so no received event is ever dropped.

/** The chart name is its identity on the networks (queues, self-filter, colours). */
function requireName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0) {
    throw new TypeError('a networked chart needs a name: new NetworkedActiveObject("name", options)');
  }
  return name;
}
