// The networked layer shared by NetworkedActiveObject and NetworkedFactory (composition:
// both classes own one MirosNets and delegate to it). It knows the chart only through
// the small ChartPort interface below, so runtime/hsm stays unaware of networking.
import type { Options } from 'amqplib';
import { Event } from '../hsm/index.ts';
import { realEnvironment, type Environment, type TimerHandle } from '../env/environment.ts';
import { formatTimestamp } from '../hsm/instrumentation.ts';
import { DRAIN_MS } from './bounded-close.ts';
import { discoverHosts } from '../lan/index.ts';
import type { BrokerLink, LinkSnapshot, LinkState } from './broker-link.ts';
import { acquireLink, releaseLink } from './link-pool.ts';
import { connectionName } from './connection.ts';
import { amqpUrl, resolveNetConfig, type NetConfig, type NetOptions } from './config.ts';
import { type Envelope } from './envelope.ts';
import { BoundedSet } from './bounded.ts';
import { HostAllowlist } from './host-allowlist.ts';
import { SealedEnvelope } from './sealed-envelope.ts';
import { resolveSecurity, type SecurityOptions, type SecuritySettings } from './security-options.ts';
import { EvidenceLog, evidencePath } from './evidence.ts';
import type { NetworkStats } from './network-stats.ts';
export type { NetworkStats } from './network-stats.ts';
import { LamportClock } from './lamport.ts';
import { ChartMetrics, type MetricsOptions } from './metrics.ts';
import { statsCounters } from './run-stats.ts';
import { MESH_RECORD_BINDING, MESH_RECORD_ROUTING_KEY, MESH_RECORD_SIGNALS, isMeshRecordSignal, meshText, snoopRecord, type MeshEventId, type SnoopRecord } from './snoop-record.ts';
import { BrokerAccessRefusedError, BrokerUnreachableError, ChartInUseError, IllegalOperationError, OutboxOverflowError, maskUrlPassword } from './errors.ts';
import { KeyRing, type KeyListInput, type KeyUsage } from './key-ring.ts';
import type { OutboxMessage } from './outbox.ts';
import { Receiver, newCounters, type NetworkCounters, type ReceiverSnapshot, type Subscription } from './receiver.ts';
import { classifyError, configMismatch, inExclusiveUse, mismatchAdvice, replyCodeOf } from './retry.ts';
import { WarningLimiter, type WarningCounts } from './warning-limiter.ts';
import { formatSnoopLine, scribbleBody, spyBody } from './snoop-format.ts';
import { useColor, type ColorSetting } from './color.ts';
import { PendingTransmission, type Transmission } from './transmission.ts';
import { brokerTlsError, tlsAdvice, tlsProblem, tlsReason } from './tls.ts';
import { EXCHANGES, SENDER_HEADER, SNOOP_ROUTING_KEYS, SNOOP_SIGNALS, type NetworkName } from './topology.ts';

/** What the networked layer needs from a chart. */
export interface ChartPort {
  readonly name: string | undefined;
  readonly queue: { readonly length: number };
  postFifo(e: Event): unknown;
  scribble(text: string): void;
  liveSpy: boolean;
  liveTrace: boolean;
  registerLiveSpyCallback(fn: (line: string) => void): void;
  registerLiveTraceCallback(fn: (line: string) => void): void;
}

export interface NetworkedOptions extends NetOptions, SecurityOptions {
  /** The clock, timers, randomness and transport (default: the real ones; tests and simulations pass their own). */
  environment?: Environment;
  /** Where received snoop lines go (default: stdout, one line each). */
  output?: (line: string) => void;
  /** Told about every event an outbox could not take (default: stderr). */
  onDeliveryError?: (err: OutboxOverflowError) => void;
  /** Told once per sender and reason about dropped messages, and about broker trouble (default: stderr). */
  onWarning?: (message: string) => void;
  /**
   * Mesh messages are persistent by default, so a broker restart loses none of them
   * (it costs latency: the broker writes them to disk). `transient` trades that
   * guarantee for latency; the outbox still resends what a broker did not confirm.
   */
  meshDelivery?: 'persistent' | 'transient';
  /** How often the host sources are read again to pick up late hosts (default 5000 ms; 0 = never). */
  rediscoverIntervalMs?: number;
  /** Local evidence file (JSON lines, see evidence.ts); default $MIROS_EVIDENCE_DIR/<name>.jsonl, else none. */
  evidenceFile?: string;
  /**
   * How often the evidence file gets a `stats` line with the chart's counters (default 1000 ms;
   * 0 = never). Only while an evidence file is written.
   */
  statsIntervalMs?: number;
  /**
   * Prometheus metrics of this chart (docs/metrics.md), off by default: `{ port }` serves
   * GET /metrics (port 0: any free one, see metricsPort()), `{ registry }` registers them in
   * the application's prom-client Registry. Needs the optional package prom-client.
   */
  metrics?: MetricsOptions;
  /** Gets the record of every snoop message received, the mesh records of the trace network included (an observer's distributed.jsonl). */
  onSnoopRecord?: (record: SnoopRecord) => void;
}

export type SnoopMode = 'off' | 'color' | 'plain';

export interface StopOptions {
  /** Delete the chart's queues too (leave the mesh for good); default false: keep them for a restart. */
  leave?: boolean;
}

export interface Lan {
  this: { address: string | undefined };
  other: { addresses: string[] };
  addresses: string[];
}

/** One event on its way to one broker: its outcome goes to the event's transmission (no closures per message). */
class LinkMessage implements OutboxMessage {
  constructor(
    readonly exchange: string,
    readonly routingKey: string,
    private readonly sealed: SealedEnvelope,
    readonly options: Options.Publish,
    private readonly transmission: PendingTransmission,
    private readonly index: number,
  ) {}

  /** Read by the outbox when it publishes: stamped and encrypted again if it waited (sealed-envelope.ts). */
  get content(): Buffer {
    return this.sealed.body();
  }

  onConfirmed(): void {
    this.transmission.confirm(this.index);
  }

  onAbandoned(): void {
    this.transmission.fail(this.index);
  }
}

/** Dead-letter reasons RabbitMQ gives besides 'expired' (x-death), kept as they are in `drops`. */
const DEAD_REASONS = { maxlen: true, rejected: true, delivery_limit: true, dead: true } as const;

type Phase = 'new' | 'starting' | 'running' | 'stopped';

/** How long startAt waits for a link to another host's broker that neither comes up nor fails. */
const OTHER_LINK_WAIT_MS = 2000;
/** The key of the one link of the clustered topology. */
const CLUSTER_LINK = 'cluster';
/** Default of the rediscoverIntervalMs option: how often discovery runs again while the chart runs. */
const REDISCOVER_INTERVAL_MS = 5000;
/** Default of the statsIntervalMs option: how often the evidence file gets a `stats` line. */
const STATS_INTERVAL_MS = 1000;
/** Hosts learnt from mesh messages that are linked to, at most; more are refused and counted. */
export const MAX_LEARNED_HOSTS = 256;
/** Security-relevant reasons kept as they are in `drops` (SECURITY.md). */
const SECURITY_REASONS = { misrouted: true, unbound: true, replay: true } as const;

export class MirosNets {
  readonly config: NetConfig;
  readonly lan: Lan;
  snoop: { trace: SnoopMode; spy: SnoopMode } = { trace: 'off', spy: 'off' };
  private readonly fernets: Record<NetworkName, KeyRing>;
  /** Mesh topology: one link per host's broker, keyed by address. Clustered: one, keyed CLUSTER_LINK. */
  private readonly links = new Map<string, BrokerLink>();
  /** How to let each link go: its key in the process's link pool, and our problem listener. */
  private readonly linkLeases = new Map<BrokerLink, { key: string; unlisten: () => void }>();
  /** Received mesh events in the chart's queue, with the ack each releases once handled. */
  private readonly pendingAcks = new WeakMap<Event, () => void>();
  /** The brokers discovery found listed (hosts, hosts file, cluster file, ARP): clustered, the members. */
  private listedBrokers: string[] = [];
  private receiver: Receiver | undefined;
  private phase: Phase = 'new';
  // Sequence numbers start from the clock so they keep growing across restarts of a node.
  private readonly seq: Record<NetworkName, number>;
  private readonly sent: Record<NetworkName, number> = { mesh: 0, trace: 0, spy: 0 };
  /** This start's identity in the logs: the sequence base (seq − incarnation counts from 1). */
  private readonly incarnation: number;
  /**
   * This start's incarnation id: 64 random bits (never the clock), sent in every envelope
   * (iid), so receivers keep a dedup window per incarnation and hear a restart at once even
   * when its clock (so its sequence base) stepped back.
   */
  readonly incarnationId: string;
  readonly clock = new LamportClock();
  /** Received mesh events waiting in the chart's queue, with their envelopes (the clock ticks when one is dispatched). */
  private readonly received = new WeakMap<Event, Envelope>();
  private readonly meshRecords = { send: 0, receive: 0 };
  private evidence: EvidenceLog | undefined;
  private selfDropped = 0;
  private published: { host: string; options: Record<NetworkName, Options.Publish> } | undefined;
  private deliveryErrors = 0;
  private readonly reportedBrokers = new Set<string>();
  private readonly refusedBrokers = new Set<string>();
  private receiverRefused = false;
  private rediscoverTimer: TimerHandle | undefined;
  private statsTimer: TimerHandle | undefined;
  /** The clock, timers, randomness and transport of this chart (options.environment). */
  private readonly env: Environment;
  /** Prometheus metrics (the metrics option), from start to stop. */
  metrics: ChartMetrics | undefined;
  private readonly output: (line: string) => void;
  private readonly warn: (message: string) => void;
  private readonly security: SecuritySettings;
  /** Where hosts named by mesh messages may be (host-allowlist.ts). */
  private readonly learnable: HostAllowlist;
  private learned = 0;
  private readonly hostsRefused = { outside: 0, overLimit: 0 };
  private readonly reportedHosts = new BoundedSet<string>(64);
  /** Repeated warnings (overflow, TLS, blocked, mismatches), rate-limited and counted. */
  private readonly limited: WarningLimiter;
  /** Links closed because their host left (departedLinkMs), and the events they held. */
  private departedDrops = 0;

  constructor(
    private readonly chart: ChartPort,
    private readonly options: NetworkedOptions = {},
  ) {
    this.env = options.environment ?? realEnvironment;
    this.incarnationId = this.env.randomBytes(8).toString('hex');
    this.config = resolveNetConfig(options);
    this.security = resolveSecurity(options);
    this.learnable = new HostAllowlist(this.security.learnHostsFrom);
    const keys = this.config.encryptionKeys;
    this.fernets = { mesh: new KeyRing(keys.mesh, this.env), trace: new KeyRing(keys.trace, this.env), spy: new KeyRing(keys.spy, this.env) };
    const start = this.env.now() * 1000;
    this.seq = { mesh: start, trace: start, spy: start };
    this.incarnation = start;
    this.lan = { this: { address: this.config.thisAddress }, other: { addresses: [] }, addresses: [] };
    this.output = options.output ?? ((line) => process.stdout.write(`${line}\n`));
    this.warn = options.onWarning ?? ((message) => console.error(`[miros-rabbitmq] ${message}`));
    this.limited = new WarningLimiter(this.warn, undefined, undefined, this.env.now);
  }

  private get name(): string {
    return this.chart.name ?? 'None';
  }

  private get host(): string {
    return this.lan.this.address ?? '127.0.0.1';
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
      this.chart.registerLiveTraceCallback((line) => this.broadcast('trace', SNOOP_SIGNALS.trace, line));
    } else {
      this.chart.liveSpy = true;
      this.chart.registerLiveSpyCallback((line) => this.broadcast('spy', SNOOP_SIGNALS.spy, spyBody(this.name, line)));
    }
  }

  // ---- lifecycle -----------------------------------------------------------------------

  /** Finds the brokers, consumes from our own, links to all; then `startChart` runs the chart. */
  async start(startChart: () => void): Promise<void> {
    if (this.phase !== 'new') throw new IllegalOperationError(`startAt() called twice on chart ${this.name}`);
    this.phase = 'starting';
    try {
      if (this.options.metrics) this.metrics = await ChartMetrics.start({ name: this.name, stats: () => this.stats() }, this.options.metrics);
      await this.discover();
      const evidenceFile = evidencePath(this.options.evidenceFile, this.name);
      if (evidenceFile) this.evidence = new EvidenceLog(evidenceFile, { sender: this.name, host: this.host, incarnation: this.incarnation, iid: this.incarnationId }, this.env);
      const own = amqpUrl(this.config, this.host);
      const consumeFrom = this.clustered ? this.clusterUrls() : [own];
      this.receiver = new Receiver({
        urls: consumeFrom,
        label: maskUrlPassword(consumeFrom[0]),
        chartName: this.name,
        host: this.host,
        topology: this.config.topology,
        messageTtl: this.config.messageTtl,
        queueExpiresMs: this.config.queueExpiresMs,
        clockSkewMs: this.security.clockSkewMs,
        acceptUnbound: this.security.acceptUnbound,
        heartbeat: this.config.heartbeatInterval,
        connectionName: connectionName('sub', this.config.processName, this.host),
        ...(this.config.tls ? { tls: this.config.tls.socket } : {}),
        environment: this.env,
        subscriptions: this.subscriptions(),
        onDrop: this.warn,
        onWarning: this.warn,
        // a refusal at startAt rejects it (below); one later (credentials changed on the broker)
        // has stopped the connection for good (connection.ts), so say so, once
        onProblem: (err) => {
          const cause = classifyError(err);
          if (cause === 'mismatch' || cause === 'tls') {
            this.reportRetried(maskUrlPassword(own), err, cause);
            return;
          }
          if (this.phase !== 'running' || cause !== 'permanent' || this.receiverRefused) return;
          this.receiverRefused = true;
          this.warn(`${this.name}: its own broker ${maskUrlPassword(own)} refused us (${err.message}); no longer receiving, not retried`);
        },
      });
      try {
        await this.receiver.open(this.config.startTimeoutMs);
      } catch (err) {
        if (err instanceof ChartInUseError) throw err;
        const cause = classifyError(err);
        if (cause === 'permanent' || cause === 'tls') throw brokerTlsError(this.name, own, err, this.config.tls) ?? this.refusedError(own, err);
        if (inExclusiveUse(err)) {
          throw new ChartInUseError(
            this.name,
            this.host,
            `chart ${this.name}: another live process runs a chart of that name on host ${this.host}: its queues on ` +
              `${maskUrlPassword(consumeFrom[0])} are held by it (${(err as Error).message}). Stop that process first, or give ` +
              `this chart another name. (Waited ${this.config.startTimeoutMs} ms in case it was a killed process whose connection the broker had not closed yet.)`,
            { cause: err },
          );
        }
        const mismatch = configMismatch(err);
        throw new BrokerUnreachableError(
          own,
          `chart ${this.name}: cannot consume from its own broker ${maskUrlPassword(own)} ` +
            `(waited at most ${this.config.startTimeoutMs} ms): ${(err as Error).message}. ` +
            (mismatch ? `The ${mismatchAdvice(mismatch)}.` : `Is RabbitMQ running there (make cluster) and are the credentials right?`),
          { cause: err },
        );
      }
      if (this.clustered) this.addClusterLink();
      else for (const address of this.lan.addresses) this.addBroker(address);
      await this.waitForLinks();
      this.phase = 'running';
      startChart();
      if (!this.clustered) this.scheduleRediscovery();
      this.scheduleStats();
    } catch (err) {
      this.phase = 'stopped';
      await this.closeAll(false, false);
      this.closeEvidence();
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
    this.env.clearInterval(this.statsTimer);
    if (this.statsTimer) this.writeStats();
    await this.closeAll(true, options.leave === true);
    this.closeEvidence();
    await this.closeMetrics();
  }

  private async closeMetrics(): Promise<void> {
    await this.metrics?.close();
    this.metrics = undefined;
  }

  /** Reads every host source once more (the ARP probe included) and links to new brokers. */
  async discover(): Promise<void> {
    const found = await discoverHosts({
      environment: this.env,
      thisAddress: this.config.thisAddress,
      hosts: this.config.hosts,
      hostsFile: this.config.hostsFile,
      hostsFileRequired: this.config.hostsFileRequired,
      arp: this.config.arp,
      cacheFile: this.config.cacheFile,
      cacheMaxAgeMinutes: this.config.cacheMaxAgeMinutes,
      clusterFile: this.config.clusterFile,
      arpSendsPasswordInCleartext: this.security.arpSendsPasswordInCleartext,
      probe: { port: this.config.rabbitPort, user: this.config.rabbitUser, password: this.config.rabbitPassword, tls: this.config.tls?.socket },
    });
    for (const warning of found.warnings) this.warn(`${this.name}: discovery: ${warning}`);
    this.lan.this.address = found.thisAddress;
    for (const address of found.addresses) this.noteAddress(address);
    // the brokers some source listed (discovery always adds this host, a cluster member or not)
    const listed = new Set(Object.values(found.sources).flat());
    this.listedBrokers = found.addresses.filter((address) => listed.has(address));
    if (this.phase === 'running' && !this.clustered) {
      await this.closeDepartedLinks(listed);
      for (const address of this.lan.addresses) this.addBroker(address);
    }
  }

  private get clustered(): boolean {
    return this.config.topology === 'clustered';
  }

  /**
   * The cluster's members as URLs, in the order to try them: this host's own node first when
   * it is one; otherwise starting at a member picked by the process id, so the processes of a
   * host without a node spread over the cluster. Failover goes down the list, wrapping.
   */
  private clusterUrls(): string[] {
    const members = this.listedBrokers.length > 0 ? this.listedBrokers : [this.host];
    const own = members.indexOf(this.host);
    const first = own >= 0 ? own : process.pid % members.length;
    return members.map((_, i) => amqpUrl(this.config, members[(first + i) % members.length]));
  }

  /** Clustered: one link to the cluster, publishing each event once. */
  private addClusterLink(): void {
    const urls = this.clusterUrls();
    this.links.set(CLUSTER_LINK, this.newLink(urls, maskUrlPassword(urls[0]).replace(/@[^/]+/, `@cluster(${urls.length} nodes)`)));
  }

  /** The chart has handled a received event (its run-to-completion step ended): ack it now. */
  eventHandled(e: Event): void {
    const ack = this.pendingAcks.get(e);
    if (ack === undefined) return;
    this.pendingAcks.delete(e);
    ack();
  }

  // ---- sending -------------------------------------------------------------------------

  transmit(event: Event): Transmission {
    if (this.phase !== 'running') {
      throw new IllegalOperationError(`transmit(${event.signalName}) on chart ${this.name} before startAt() resolved or after stop()`);
    }
    const lamport = this.clock.tick();
    const transmission = this.send('mesh', this.config.txRoutingKey, event.signalName, event.payload ?? null, lamport);
    this.recordMesh('mesh-send', { sender: this.name, host: this.host, inc: this.incarnation, iid: this.incarnationId, seq: transmission.seq, lamport, signal: event.signalName });
    return transmission;
  }

  /** Called by the chart right before it dispatches `event`: a received mesh event ticks the clock and is recorded. */
  beforeDispatch(event: Event): void {
    const envelope = this.received.get(event);
    if (!envelope) return;
    this.received.delete(event);
    this.clock.receive(envelope.lc);
    this.metrics?.delivered(envelope.ts, this.env.now());
    const { sender, host, seq, signal } = envelope;
    const iid = envelope.iid !== undefined ? { iid: envelope.iid } : {};
    this.recordMesh('mesh-receive', { sender, host, inc: envelope.inc ?? null, ...iid, seq, lamport: envelope.lc ?? null, signal });
  }

  snoopScribble(message: string): void {
    const line = scribbleBody(formatTimestamp(this.env.nowMicros()), this.name, message);
    if (this.snoop.trace !== 'off') this.broadcast('trace', SNOOP_SIGNALS.scribble, line);
    else if (this.snoop.spy !== 'off') this.broadcast('spy', SNOOP_SIGNALS.scribble, spyBody(this.name, line));
    else this.chart.scribble(line);
  }

  thisUrl(): string {
    return amqpUrl(this.config, this.host);
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
    this.fernets[network].use(keys);
  }

  /** Fingerprints of a network's keys, encrypting key first, with how many messages each opened. */
  keyUsage(network: NetworkName): KeyUsage[] {
    return this.fernets[network].usage();
  }

  stats(): NetworkStats {
    const counters = this.receiver?.counters;
    const zero = newCounters;
    const drops: Record<string, number> = {};
    for (const c of Object.values(counters ?? {})) {
      for (const [reason, n] of Object.entries(c.droppedBy)) {
        const key = reason === 'undecryptable' || reason === 'expired' || reason in DEAD_REASONS || reason in SECURITY_REASONS ? reason : 'malformed';
        drops[key] = (drops[key] ?? 0) + n;
      }
    }
    if (this.deliveryErrors > 0) drops.overflow = this.deliveryErrors;
    if (this.departedDrops > 0) drops.departed = this.departedDrops;
    const brokers = [...this.links.values()].map((link) => link.snapshot());
    const resends = { total: 0, nack: 0, lost: 0, stalled: 0 };
    for (const b of brokers) {
      resends.total += b.resent;
      resends.nack += b.resentBy.nack;
      resends.lost += b.resentBy.lost;
      resends.stalled += b.resentBy.stalled;
    }
    return {
      topology: this.config.topology,
      // mesh.delivered: events posted into this chart; mesh.self: our own events that came back
      mesh: {
        ...(counters?.mesh ?? zero()),
        delivered: (counters?.mesh.delivered ?? 0) - this.selfDropped,
        sent: this.sent.mesh,
        self: this.selfDropped + (counters?.mesh.own ?? 0),
      },
      trace: { ...(counters?.trace ?? zero()), sent: this.sent.trace },
      spy: { ...(counters?.spy ?? zero()), sent: this.sent.spy },
      deliveryErrors: this.deliveryErrors,
      brokers,
      refusedBrokers: this.refusedBrokers.size,
      receiving: this.receiver?.snapshot() ?? { state: 'closed', cancels: 0 },
      resends,
      redeliveries: Object.values(counters ?? {}).reduce((n, c) => n + c.redelivered, 0),
      blockedBrokers: brokers.filter((b) => b.state === 'blocked').length,
      drops,
      meshRecords: { ...this.meshRecords },
      lamport: this.clock.time,
      bookkeeping: {
        ...(this.receiver?.bookkeeping ?? { dedupWindowsShed: 0, reportsShed: 0, replayStreamsShed: 0, replayReanchored: 0 }),
        reportsShed: (this.receiver?.bookkeeping.reportsShed ?? 0) + this.reportedHosts.shed,
        hostsRefused: this.hostsRefused.outside,
        hostsOverLimit: this.hostsRefused.overLimit,
      },
      warnings: this.limited.stats,
    };
  }

  // ---- internals -----------------------------------------------------------------------

  private broadcast(network: 'trace' | 'spy', signal: string, body: string): void {
    // Instrumentation before the networks are up (e.g. the engine's START) still goes out:
    // the links exist by the time the chart starts, and their outboxes hold it.
    if (this.phase !== 'running') return;
    this.send(network, SNOOP_ROUTING_KEYS[network], signal, body);
  }

  /** Mirrors a mesh event onto the trace network (snoop trace on), else into the evidence file only. */
  private recordMesh(kind: 'mesh-send' | 'mesh-receive', event: MeshEventId): void {
    if (this.snoop.trace !== 'off' && this.phase === 'running') {
      this.meshRecords[kind === 'mesh-send' ? 'send' : 'receive']++;
      this.send('trace', MESH_RECORD_ROUTING_KEY, kind === 'mesh-send' ? MESH_RECORD_SIGNALS.send : MESH_RECORD_SIGNALS.receive, { event });
      return;
    }
    if (!this.evidence) return; // neither on the trace network nor in a file: nothing to build
    const text = meshText(kind, this.name, event);
    const head = { sender: this.name, host: this.host, inc: this.incarnation, iid: this.incarnationId, seq: null, lamport: this.clock.time, ts: this.env.now() };
    this.evidence.write({ network: 'local', ...head, kind, signal: event.signal, from: null, to: null, text, event });
  }

  /** The evidence file's `stats` line every statsIntervalMs (the timer never keeps the process alive). */
  private scheduleStats(): void {
    const every = this.options.statsIntervalMs ?? STATS_INTERVAL_MS;
    if (!this.evidence || every <= 0) return;
    this.statsTimer = this.env.setInterval(() => this.writeStats(), every);
    this.statsTimer.unref();
  }

  private writeStats(): void {
    this.evidence?.writeStats(this.clock.time, statsCounters(this.stats(), this.chart.queue.length));
  }

  private closeEvidence(): void {
    this.env.clearInterval(this.statsTimer);
    this.statsTimer = undefined;
    this.evidence?.close(this.clock.time, { ...this.sent });
    this.evidence = undefined;
  }

  /** Encrypts and publishes to every broker; the handle learns which brokers confirmed it. */
  private send(network: NetworkName, routingKey: string, signal: string, payload: unknown, lamport = this.clock.time): PendingTransmission {
    const envelope = {
      sender: this.name,
      host: this.host,
      seq: ++this.seq[network],
      ts: this.env.now(),
      signal,
      payload,
      lc: lamport,
      inc: this.incarnation,
      iid: this.incarnationId,
      // the authenticated destination (destination.ts)
      net: network,
      rk: routingKey,
    };
    const transmission = new PendingTransmission(envelope.seq);
    const sealed = new SealedEnvelope(this.fernets[network], envelope, this.env.now);
    this.sent[network]++;
    if (this.evidence && network !== 'mesh') {
      const record = snoopRecord(network, { v: 1, ...envelope });
      if (record) this.evidence.write(record);
    }
    const options = this.publishOptions(network);
    for (const link of this.links.values()) {
      const i = transmission.expect(link.broker);
      try {
        link.publish(new LinkMessage(EXCHANGES[network], routingKey, sealed, options, transmission, i));
      } catch (err) {
        if (!(err instanceof OutboxOverflowError)) throw err;
        transmission.fail(i);
        this.deliveryErrors++;
        if (this.options.onDeliveryError) this.options.onDeliveryError(err);
        else this.limited.warn(`overflow ${err.broker}`, `${this.name}: ${err.message}`);
      }
    }
    return transmission.seal();
  }

  private subscriptions(): Subscription[] {
    const list: Subscription[] = [
      {
        network: 'mesh',
        bindingKey: this.config.rxRoutingKey,
        fernet: this.fernets.mesh,
        deliver: (e, handled) => this.onMesh(e, handled),
        skipSender: this.senderId(),
      },
    ];
    for (const network of ['trace', 'spy'] as const) {
      if (this.snoop[network] === 'off') continue;
      list.push({
        network,
        bindingKey: network === 'trace' && this.options.onSnoopRecord ? MESH_RECORD_BINDING : SNOOP_ROUTING_KEYS[network],
        fernet: this.fernets[network],
        deliver: (e, handled) => {
          handled();
          this.onSnoop(network, e);
        },
      });
    }
    return list;
  }

  private senderId(): string {
    return `${this.name}@${this.host}`;
  }

  /**
   * The AMQP properties of what we publish on `network`: one object per network, made again
   * only if this host's address changes (amqplib reads them, never writes them).
   */
  private publishOptions(network: NetworkName): Options.Publish {
    if (this.published?.host !== this.host) {
      const headers = { [SENDER_HEADER]: this.senderId() };
      const common = { contentType: 'application/octet-stream', appId: 'miros-rabbitmq', headers };
      this.published = {
        host: this.host,
        options: {
          mesh: { ...common, persistent: this.options.meshDelivery !== 'transient' },
          trace: { ...common, persistent: false },
          spy: { ...common, persistent: false },
        },
      };
    }
    return this.published.options[network];
  }

  private isSelf(envelope: Envelope): boolean {
    return envelope.sender === this.name && envelope.host === this.host;
  }

  private onMesh(envelope: Envelope, handled: () => void): void {
    if (this.isSelf(envelope)) {
      this.selfDropped++;
      handled();
      return;
    }
    this.learnFrom(envelope);
    const event = new Event(envelope.signal, envelope.payload ?? undefined);
    this.pendingAcks.set(event, handled);
    this.received.set(event, envelope);
    this.chart.postFifo(event);
  }

  private onSnoop(network: 'trace' | 'spy', envelope: Envelope): void {
    if (this.phase === 'stopped') return;
    // a snoop message never opens a link: the snoop keys are given to observers, who must not
    // be able to send our broker credentials to a host of their choosing (SECURITY.md)
    const local = this.isSelf(envelope);
    if (this.options.onSnoopRecord) {
      const record = snoopRecord(network, envelope);
      if (record) this.options.onSnoopRecord(record);
    }
    if (isMeshRecordSignal(envelope.signal)) return; // a record, never a line
    this.output(formatSnoopLine(network, envelope, local, this.snoop[network] === 'color'));
  }

  /**
   * A mesh message from a host we had not found ourselves: link to its broker too (the
   * reference's "alien"), if the host lies in learnHostsFrom (host-allowlist.ts) and fewer
   * than MAX_LEARNED_HOSTS were learnt: a link logs in with our credentials.
   */
  private learnFrom(envelope: Envelope): void {
    if (this.phase !== 'running' || this.clustered || this.links.has(envelope.host)) return;
    const host = envelope.host;
    const refuse = (counter: 'outside' | 'overLimit', why: string) => {
      this.hostsRefused[counter]++;
      if (this.reportedHosts.has(host)) return;
      this.reportedHosts.add(host);
      this.warn(`${this.name}: not linking to host ${JSON.stringify(host)} named by a mesh message from ${envelope.sender}: ${why}`);
    };
    if (!this.learnable.allows(host)) return refuse('outside', `outside learnHostsFrom (${this.learnable.describe()}); list it in hosts or widen learnHostsFrom`);
    if (this.learned >= MAX_LEARNED_HOSTS) return refuse('overLimit', `already ${MAX_LEARNED_HOSTS} hosts learnt from messages`);
    this.learned++;
    this.noteAddress(host);
    this.addBroker(host);
  }

  private noteAddress(address: string): void {
    if (this.lan.addresses.includes(address)) return;
    this.lan.addresses.push(address);
    if (address !== this.host) this.lan.other.addresses.push(address);
  }

  private addBroker(address: string): void {
    if (this.links.has(address) || this.phase === 'stopped') return;
    const url = amqpUrl(this.config, address);
    this.links.set(address, this.newLink([url], maskUrlPassword(url)));
  }

  /**
   * Mesh: a link to another host's broker that has not been connected for departedLinkMs,
   * while no host source lists that host any more, is closed: the host left. The events it
   * held are dropped and counted ('departed'; their transmissions learn they were not sent).
   * A message from that host later links to it again (learnFrom).
   */
  private async closeDepartedLinks(listed: ReadonlySet<string>): Promise<void> {
    const bound = this.config.departedLinkMs;
    if (bound <= 0) return;
    for (const [address, link] of [...this.links]) {
      if (address === this.host || listed.has(address) || link.notUpForMs < bound) continue;
      const held = link.outbox.size;
      this.links.delete(address);
      this.lan.addresses = this.lan.addresses.filter((a) => a !== address);
      this.lan.other.addresses = this.lan.other.addresses.filter((a) => a !== address);
      this.departedDrops += held;
      this.warn(
        `${this.name}: host ${address} left (no source lists it, its broker ${link.broker} unreachable for ${Math.round(link.notUpForMs / 1000)} s): ` +
          `link closed, ${held} held event${held === 1 ? '' : 's'} dropped (departedLinkMs)`,
      );
      const lease = this.linkLeases.get(link);
      this.linkLeases.delete(link);
      if (lease) {
        lease.unlisten();
        await releaseLink(lease.key, 0, this.env);
      }
    }
  }

  /** This chart's use of the process's link to `urls` (shared with the other charts of the process). */
  private newLink(urls: string[], label: string): BrokerLink {
    const { link, key } = acquireLink({
      urls,
      label,
      connectionName: connectionName('pub', this.config.processName, this.host),
      heartbeat: this.config.heartbeatInterval,
      ...(this.config.tls ? { tls: this.config.tls.socket } : {}),
      outboxBound: this.config.outboxBound,
      maxInFlight: this.config.maxInFlight,
      environment: this.env,
    });
    const unlistenProblems = link.onProblem((err, cause) => {
      if (cause === 'tls' || cause === 'mismatch') {
        this.reportRetried(label, err, cause);
        return;
      }
      if (cause === 'permanent' && link.linkState !== 'refused') {
        // one member of a cluster refused us: skipped, the link fails over to the others
        const member = link.snapshot().refusedMembers?.at(-1) ?? label;
        this.limited.first(
          `member-refused ${member}`,
          `${this.name}: ${member} refused us (${err.message}); failing over to the other members of ${label} ` +
            `(check the user, password and vhost on that member: rabbitUser/rabbitPassword, RABBIT_USER/RABBIT_PASSWORD)`,
        );
        return;
      }
      if (cause === 'permanent') {
        // once per broker, and never retried: every member refused, openRecovering has stopped the connection
        if (this.refusedBrokers.has(label)) return;
        this.refusedBrokers.add(label);
        this.reportedBrokers.add(label);
        const tls = tlsProblem(err);
        this.warn(
          tls
            ? `${this.name}: TLS with broker ${label} failed (${tlsReason(err)}): ${tlsAdvice(tls, this.config.tls)}; its link is not retried`
            : `${this.name}: broker ${label} refused us (${err.message}); its link is not retried ` +
                `(check the user, password and vhost that broker accepts: rabbitUser/rabbitPassword, RABBIT_USER/RABBIT_PASSWORD)`,
        );
        return;
      }
      if (this.reportedBrokers.has(label)) return;
      this.reportedBrokers.add(label);
      this.warn(`${this.name}: broker ${label} unreachable (${err.message}); holding its events and retrying`);
    });
    const unlistenStates = link.onState((state, reason) => this.linkStateChanged(link, state, reason));
    const unlisten = () => {
      unlistenProblems();
      unlistenStates();
    };
    this.linkLeases.set(link, { key, unlisten });
    link.open().catch((err) => this.warn(`${this.name}: cannot open a link to ${label}: ${(err as Error).message}`));
    return link;
  }

  /**
   * Waits on the links' events (no polling): the own broker's link until it is up or refused
   * (at most startTimeoutMs), every other one, in parallel, until it is up or has failed once
   * (at most OTHER_LINK_WAIT_MS), so what the chart sends first reaches every broker that is
   * there rather than piling up in an outbox. Nothing times out silently: the own link when
   * still not up, and every other link that has failed, is reported now, one line per broker
   * (unless already reported); a link that fails later is reported by its onProblem. The chart
   * starts anyway: every such link keeps trying and its outbox holds the events meanwhile.
   */
  private async waitForLinks(): Promise<void> {
    const timeout = this.config.startTimeoutMs;
    await Promise.all(
      [...this.links.entries()].map(([address, link]) =>
        address === this.host || address === CLUSTER_LINK ? link.whenSettled(timeout) : link.whenSettled(Math.min(timeout, OTHER_LINK_WAIT_MS), { untilFailure: true }),
      ),
    );
    for (const [address, link] of this.links) {
      const snap = link.snapshot();
      const own = address === this.host || address === CLUSTER_LINK;
      if (snap.state === 'up' || this.reportedBrokers.has(snap.broker) || (!own && snap.lastError === undefined)) continue;
      this.reportedBrokers.add(snap.broker);
      this.warn(
        `${this.name}: link to broker ${snap.broker}${own ? ' (its own broker)' : ''} not up at start (${snap.state}` +
          `${snap.lastError ? `: ${snap.lastError}` : `, after ${timeout} ms`}); ` +
          `starting anyway, the link keeps trying and holds its events`,
      );
    }
  }

  /**
   * A TLS failure (retried with the capped backoff: a renewed certificate is picked up) or a
   * declaration the broker has differently (406; retried: the old queue may be deleted):
   * said once per broker and kind, by name, with what to change; repeats are counted.
   */
  private reportRetried(label: string, err: Error, cause: 'tls' | 'mismatch'): void {
    if (cause === 'tls') {
      const problem = tlsProblem(err);
      const advice = problem ? tlsAdvice(problem, this.config.tls) : err.message;
      this.limited.warn(`tls ${label}`, `${this.name}: TLS with broker ${label} failed (${tlsReason(err)}): ${advice}; retrying with backoff`);
      return;
    }
    const mismatch = configMismatch(err);
    const what = mismatch ? `${mismatch.kind} ${mismatch.name} ${mismatch.arg}` : err.message;
    this.limited.first(`mismatch ${label} ${what}`, `${this.name}: broker ${label}: ${mismatch ? mismatchAdvice(mismatch) : err.message}`);
  }

  /** A link's change of state: into the evidence file; a block (flow control) is also said, rate-limited. */
  private linkStateChanged(link: BrokerLink, state: LinkState, reason: string | undefined): void {
    if (state === 'blocked') {
      this.limited.warn(`blocked ${link.broker}`, `${this.name}: broker ${link.broker} blocks publishing (${reason ?? 'resource alarm'}); holding events until it unblocks`);
    }
    if (!this.evidence) return;
    const head = { network: 'local' as const, sender: this.name, host: this.host, inc: this.incarnation, seq: null, lamport: this.clock.time, ts: this.env.now() };
    const resent = link.snapshot().resent;
    this.evidence.write({
      ...head,
      kind: 'link',
      signal: null,
      from: null,
      to: null,
      text: ` [link] ${this.name}: broker ${link.broker} ${state}${reason ? ` (${reason})` : ''}`,
      link: { broker: link.broker, state, ...(reason !== undefined ? { reason } : {}), resent },
    });
  }

  /** startAt's error when its own broker refused us: which broker, and where credentials are set. */
  private refusedError(url: string, err: unknown): BrokerAccessRefusedError {
    const masked = maskUrlPassword(url);
    const replyCode = replyCodeOf(err);
    const what =
      replyCode === 530
        ? `refused access to its vhost for user ${JSON.stringify(this.config.rabbitUser)}`
        : `refused the credentials of user ${JSON.stringify(this.config.rabbitUser)} (wrong user or password; RabbitMQ's guest user may only connect from localhost)`;
    const from = this.config.sources.rabbitUser ?? 'default';
    return new BrokerAccessRefusedError(
      url,
      `chart ${this.name}: broker ${masked} ${what}: ${(err as Error).message}. ` +
        `Set the credentials with the rabbitUser/rabbitPassword options, or RABBIT_USER/RABBIT_PASSWORD ` +
        `in the environment or a .env file (the user came from: ${from}). Not retried.`,
      { cause: err, ...(replyCode !== undefined ? { replyCode } : {}) },
    );
  }

  private scheduleRediscovery(): void {
    const every = this.options.rediscoverIntervalMs ?? REDISCOVER_INTERVAL_MS;
    if (every <= 0) return;
    const tick = () => {
      this.rediscoverTimer = this.env.setTimeout(() => {
        this.discover()
          .catch((err) => this.warn(`${this.name}: rediscovery failed: ${(err as Error).message}`))
          .finally(() => this.phase === 'running' && tick());
      }, every);
      this.rediscoverTimer.unref();
    };
    tick();
  }

  /** cleanStop: wait briefly for unconfirmed events; leave: delete the chart's queues. */
  private async closeAll(cleanStop: boolean, leave: boolean): Promise<void> {
    this.env.clearTimeout(this.rediscoverTimer);
    this.env.clearInterval(this.statsTimer);
    const leases = [...this.linkLeases.values()];
    this.linkLeases.clear();
    this.links.clear();
    await Promise.all([
      this.receiver?.close(leave),
      ...leases.map(({ key, unlisten }) => {
        unlisten();
        return releaseLink(key, cleanStop ? DRAIN_MS : 0, this.env);
      }),
    ]);
  }
}
