// The networked layer shared by NetworkedActiveObject and NetworkedFactory (composition:
// both classes own one MirosNets and delegate to it). It knows the chart only through
// the small ChartPort interface (networked-options.ts), so runtime/hsm stays unaware of
// networking. The coordinator: the chart's lifecycle, over its parts, each one concept:
// brokers.ts (discovery, topology, links), publisher.ts (sending), inbox.ts (receiving),
// chart-evidence.ts (the evidence file), chart-stats.ts (networkStats()).
import type { Event } from '../hsm/index.ts';
import { realEnvironment, type Environment } from '../env/environment.ts';
import { formatTimestamp } from '../hsm/instrumentation.ts';
import { Brokers } from './brokers.ts';
import type { ChartContext, Phase } from './chart-context.ts';
import { ChartEvidence } from './chart-evidence.ts';
import type { StatsCounters } from './evidence.ts';
import { chartStats } from './chart-stats.ts';
import { useColor, type ColorSetting } from './color.ts';
import { amqpUrl, resolveNetConfig, type NetConfig } from './config.ts';
import { IllegalOperationError } from './errors.ts';
import { Inbox } from './inbox.ts';
import { KeyRing, type KeyListInput, type KeyUsage } from './key-ring.ts';
import { LamportClock } from './lamport.ts';
import { ChartMetrics } from './metrics.ts';
import type { NetworkStats } from './network-stats.ts';
import type { ChartPort, Lan, NetworkedOptions, SnoopMode, StopOptions } from './networked-options.ts';
import { Publisher } from './publisher.ts';
import { statsCounters } from './run-stats.ts';
import { resolveSecurity } from './security-options.ts';
import { scribbleBody, spyBody } from './snoop-format.ts';
import { SNOOP_SIGNALS, type NetworkName } from './topology.ts';
import type { Transmission } from './transmission.ts';
import { WarningLimiter } from './warning-limiter.ts';
import { regressed } from './regressions.ts';

export type { NetworkStats } from './network-stats.ts';
export type { ChartPort, Lan, NetworkedOptions, SnoopMode, StopOptions } from './networked-options.ts';
export { MAX_LEARNED_HOSTS } from './brokers.ts';

export class MirosNets {
  readonly config: NetConfig;
  readonly lan: Lan;
  readonly snoop: { trace: SnoopMode; spy: SnoopMode } = { trace: 'off', spy: 'off' };
  /**
   * This start's incarnation id: 64 random bits (never the clock), sent in every envelope
   * (iid), so receivers keep a dedup window per incarnation and hear a restart at once even
   * when its clock (so its sequence base) stepped back.
   */
  readonly incarnationId: string;
  readonly clock = new LamportClock();
  /** Prometheus metrics (the metrics option), from start to stop. */
  metrics: ChartMetrics | undefined;
  private phase: Phase = 'new';
  /** The clock, timers, randomness and transport of this chart (options.environment). */
  private readonly env: Environment;
  private readonly ctx: ChartContext;
  private readonly evidence: ChartEvidence;
  private readonly brokers: Brokers;
  private readonly publisher: Publisher;
  private readonly inbox: Inbox;

  constructor(
    private readonly chart: ChartPort,
    private readonly options: NetworkedOptions = {},
  ) {
    const env = (this.env = options.environment ?? realEnvironment);
    this.incarnationId = env.randomBytes(8).toString('hex');
    const config = (this.config = resolveNetConfig(options));
    const keys = config.encryptionKeys;
    // Sequence numbers start from the clock so they keep growing across restarts of a node.
    const incarnation = env.now() * 1000;
    this.lan = { this: { address: config.thisAddress }, other: { addresses: [] }, addresses: [] };
    const warn = options.onWarning ?? ((message: string) => console.error(`[miros-rabbitmq] ${message}`));
    const nets = this;
    this.ctx = {
      chart,
      get name() {
        return chart.name ?? 'None';
      },
      get host() {
        return nets.lan.this.address ?? '127.0.0.1';
      },
      get phase() {
        return nets.phase;
      },
      get metrics() {
        return nets.metrics;
      },
      lan: this.lan,
      snoop: this.snoop,
      options,
      config,
      security: resolveSecurity(options),
      env,
      fernets: { mesh: new KeyRing(keys.mesh, env), trace: new KeyRing(keys.trace, env), spy: new KeyRing(keys.spy, env) },
      clock: this.clock,
      incarnation,
      incarnationId: this.incarnationId,
      output: options.output ?? ((line) => process.stdout.write(`${line}\n`)),
      warn,
      limited: new WarningLimiter(warn, undefined, undefined, env.now),
    };
    this.evidence = new ChartEvidence(this.ctx);
    this.brokers = new Brokers(this.ctx, this.evidence);
    this.publisher = new Publisher(this.ctx, this.evidence, () => this.brokers.links.values());
    this.inbox = new Inbox(this.ctx, this.publisher, (envelope) => this.brokers.learnFrom(envelope));
  }

  private get name(): string {
    return this.ctx.name;
  }

  // ---- snoop switches (before startAt) -------------------------------------------------

  /** 'color' or 'plain' for a colour setting: 'auto' looks at stdout, unless `output` was given (then only NO_COLOR counts). */
  colorMode(setting: ColorSetting): 'color' | 'plain' {
    const isTTY = this.options.output ? true : process.stdout.isTTY;
    return useColor(setting, isTTY) ? 'color' : 'plain';
  }

  enableSnoop(network: 'trace' | 'spy', mode: 'color' | 'plain'): void {
    if (this.phase !== 'new') {
      throw new IllegalOperationError(`enable the snoop ${network} network before startAt() (chart ${this.name})`);
    }
    this.snoop[network] = mode;
    if (network === 'trace') {
      this.chart.liveTrace = true;
      this.chart.registerLiveTraceCallback((line) => this.publisher.broadcast('trace', SNOOP_SIGNALS.trace, line));
    } else {
      this.chart.liveSpy = true;
      this.chart.registerLiveSpyCallback((line) => this.publisher.broadcast('spy', SNOOP_SIGNALS.spy, spyBody(this.name, line)));
    }
  }

  // ---- lifecycle -----------------------------------------------------------------------

  /** Finds the brokers, consumes from our own, links to all; then `startChart` runs the chart. */
  async start(startChart: () => void): Promise<void> {
    if (this.phase !== 'new') throw new IllegalOperationError(`startAt() called twice on chart ${this.name}`);
    this.phase = 'starting';
    try {
      if (this.options.metrics) this.metrics = await ChartMetrics.start({ name: this.name, stats: () => this.stats() }, this.options.metrics);
      await this.brokers.discover();
      this.evidence.start();
      await this.inbox.open(this.thisUrl(), this.brokers.consumeFrom());
      this.brokers.linkAll();
      await this.brokers.waitForLinks();
      this.phase = 'running';
      startChart();
      this.brokers.scheduleRediscovery();
      this.evidence.scheduleStats(() => this.statsCounters());
    } catch (err) {
      this.phase = 'stopped';
      await this.closeAll(false, false);
      this.evidence.close({ ...this.publisher.sent });
      await this.closeMetrics();
      throw err;
    }
  }

  /**
   * Stops sending and receiving. The chart's queues stay (for queueExpiresMs), so a restart of
   * the same chart on the same host gets what was sent meanwhile; with `leave` they are deleted:
   * the chart leaves the mesh, and what is sent to it from then on is not kept for it.
   */
  async stop(options: StopOptions = {}): Promise<void> {
    if (this.phase === 'stopped') return;
    this.phase = 'stopped';
    // the last counters while the links still hold theirs, so the file ends with the run's totals
    if (this.evidence.stopStats()) this.evidence.writeStats(this.statsCounters());
    await this.closeAll(true, options.leave === true || regressed(this.env, 'stop-deletes-queues'));
    this.evidence.close({ ...this.publisher.sent });
    await this.closeMetrics();
  }

  private async closeMetrics(): Promise<void> {
    await this.metrics?.close();
    this.metrics = undefined;
  }

  /** Reads every host source once more (the ARP probe included) and links to new brokers. */
  async discover(): Promise<void> {
    await this.brokers.discover();
  }

  /** The chart has handled a received event (its run-to-completion step ended): ack it now. */
  eventHandled(e: Event): void {
    this.inbox.eventHandled(e);
  }

  // ---- sending -------------------------------------------------------------------------

  transmit(event: Event): Transmission {
    return this.publisher.transmit(event);
  }

  /** Called by the chart right before it dispatches `event`: a received mesh event ticks the clock and is recorded. */
  beforeDispatch(event: Event): void {
    this.inbox.beforeDispatch(event);
  }

  snoopScribble(message: string): void {
    const line = scribbleBody(formatTimestamp(this.env.nowMicros()), this.name, message);
    if (this.snoop.trace !== 'off') this.publisher.broadcast('trace', SNOOP_SIGNALS.scribble, line);
    else if (this.snoop.spy !== 'off') this.publisher.broadcast('spy', SNOOP_SIGNALS.scribble, spyBody(this.name, line));
    else this.chart.scribble(line);
  }

  thisUrl(): string {
    return amqpUrl(this.config, this.ctx.host);
  }

  otherUrls(): string[] {
    return this.lan.other.addresses.map((address) => amqpUrl(this.config, address));
  }

  /**
   * Replaces a network's key list while running (rotation without restart, key-ring.ts):
   * the first key encrypts from the next event on, every key decrypts.
   * @throws TypeError if the list is empty or a key is malformed (the old list stays)
   */
  useKeys(network: NetworkName, keys: KeyListInput): void {
    this.ctx.fernets[network].use(keys);
  }

  /** Fingerprints of a network's keys, encrypting key first, with how many messages each opened. */
  keyUsage(network: NetworkName): KeyUsage[] {
    return this.ctx.fernets[network].usage();
  }

  stats(): NetworkStats {
    const { publisher, inbox, brokers, clock } = this;
    return chartStats({ topology: this.config.topology, publisher, inbox, brokers, clock, limited: this.ctx.limited });
  }

  private statsCounters(): StatsCounters {
    return statsCounters(this.stats(), this.chart.queue.length);
  }

  /** cleanStop: wait briefly for unconfirmed events; leave: delete the chart's queues. */
  private async closeAll(cleanStop: boolean, leave: boolean): Promise<void> {
    this.evidence.stopStats();
    await Promise.all([this.inbox.close(leave), this.brokers.close(cleanStop)]);
  }
}
