// The brokers of a networked chart: discovery of the hosts (and re-discovery while it runs),
// the topology (mesh: one publishing link per host's broker; clustered: one to the cluster),
// hosts learnt from mesh messages, and the chart's leases on the process's links.
import type { TimerHandle } from '../env/environment.ts';
import { DRAIN_MS } from './bounded-close.ts';
import { discoverHosts } from '../lan/index.ts';
import type { BrokerLink, LinkState } from './broker-link.ts';
import { reportChannelError, reportLinkProblem, type Reported } from './broker-warnings.ts';
import type { ChartContext } from './chart-context.ts';
import type { ChartEvidence } from './chart-evidence.ts';
import { amqpUrl } from './config.ts';
import { connectionName } from './connection.ts';
import type { Envelope } from './envelope.ts';
import { maskUrlPassword } from './errors.ts';
import { BoundedSet } from './bounded.ts';
import { HostAllowlist } from './host-allowlist.ts';
import { sessionOf } from './session.ts';

/** How long startAt waits for a link to another host's broker that neither comes up nor fails. */
const OTHER_LINK_WAIT_MS = 2000;
/** The key of the one link of the clustered topology. */
const CLUSTER_LINK = 'cluster';
/** Default of the rediscoverIntervalMs option: how often discovery runs again while the chart runs. */
const REDISCOVER_INTERVAL_MS = 5000;
/** Hosts learnt from mesh messages that are linked to, at most; more are refused and counted. */
export const MAX_LEARNED_HOSTS = 256;

export class Brokers {
  /** Mesh topology: one link per host's broker, keyed by address. Clustered: one, keyed CLUSTER_LINK. */
  readonly links = new Map<string, BrokerLink>();
  /** How to let each link go: its key in the environment's session (session.ts), and our listeners. */
  private readonly linkLeases = new Map<BrokerLink, { key: string; unlisten: () => void }>();
  /** The brokers discovery found listed (hosts, hosts file, cluster file, ARP): clustered, the members. */
  private listedBrokers: string[] = [];
  readonly reported: Reported = { brokers: new Set<string>(), refused: new Set<string>() };
  /** Where hosts named by mesh messages may be (host-allowlist.ts). */
  private readonly learnable: HostAllowlist;
  private learned = 0;
  readonly hostsRefused = { outside: 0, overLimit: 0 };
  readonly reportedHosts = new BoundedSet<string>(64);
  /** Links closed because their host left (departedLinkMs), and the events they held. */
  departedDrops = 0;
  private rediscoverTimer: TimerHandle | undefined;

  constructor(
    private readonly ctx: ChartContext,
    private readonly evidence: ChartEvidence,
  ) {
    const env = ctx.env;
    this.learnable = new HostAllowlist(ctx.security.learnHostsFrom, env.networkInterfaces ? () => env.networkInterfaces!() : undefined);
  }

  get clustered(): boolean {
    return this.ctx.config.topology === 'clustered';
  }

  /** Reads every host source once more (the ARP probe included) and links to new brokers. */
  async discover(): Promise<void> {
    const { ctx } = this;
    const { config } = ctx;
    const found = await discoverHosts({
      environment: ctx.env,
      thisAddress: config.thisAddress,
      hosts: config.hosts,
      hostsFile: config.hostsFile,
      hostsFileRequired: config.hostsFileRequired,
      arp: config.arp,
      cacheFile: config.cacheFile,
      cacheMaxAgeMinutes: config.cacheMaxAgeMinutes,
      clusterFile: config.clusterFile,
      arpSendsPasswordInCleartext: ctx.security.arpSendsPasswordInCleartext,
      probe: { port: config.rabbitPort, user: config.rabbitUser, password: config.rabbitPassword, tls: config.tls?.socket },
    });
    for (const warning of found.warnings) ctx.warn(`${ctx.name}: discovery: ${warning}`);
    ctx.lan.this.address = found.thisAddress;
    for (const address of found.addresses) this.noteAddress(address);
    // the brokers some source listed (discovery always adds this host, a cluster member or not)
    const listed = new Set(Object.values(found.sources).flat());
    this.listedBrokers = found.addresses.filter((address) => listed.has(address));
    if (ctx.phase === 'running' && !this.clustered) {
      await this.closeDepartedLinks(listed);
      for (const address of ctx.lan.addresses) this.addBroker(address);
    }
  }

  /** Where the chart consumes from: its own broker (clustered: every member, in the order to try them). */
  consumeFrom(): string[] {
    return this.clustered ? this.clusterUrls() : [amqpUrl(this.ctx.config, this.ctx.host)];
  }

  /** Links to every broker found (clustered: the one link to the cluster). */
  linkAll(): void {
    if (this.clustered) this.addClusterLink();
    else for (const address of this.ctx.lan.addresses) this.addBroker(address);
  }

  /** Runs discovery again every rediscoverIntervalMs while the chart runs (mesh only). */
  scheduleRediscovery(): void {
    const { ctx } = this;
    const every = ctx.options.rediscoverIntervalMs ?? REDISCOVER_INTERVAL_MS;
    if (this.clustered || every <= 0) return;
    const tick = () => {
      this.rediscoverTimer = ctx.env.setTimeout(() => {
        this.discover()
          .catch((err) => ctx.warn(`${ctx.name}: rediscovery failed: ${(err as Error).message}`))
          .finally(() => ctx.phase === 'running' && tick());
      }, every);
      this.rediscoverTimer.unref();
    };
    tick();
  }

  /**
   * The cluster's members as URLs, in the order to try them: this host's own node first when
   * it is one; otherwise starting at a member picked by the process id, so the processes of a
   * host without a node spread over the cluster. Failover goes down the list, wrapping.
   */
  private clusterUrls(): string[] {
    const host = this.ctx.host;
    const members = this.listedBrokers.length > 0 ? this.listedBrokers : [host];
    const own = members.indexOf(host);
    const first = own >= 0 ? own : process.pid % members.length;
    return members.map((_, i) => amqpUrl(this.ctx.config, members[(first + i) % members.length]));
  }

  /** Clustered: one link to the cluster, publishing each event once. */
  private addClusterLink(): void {
    const urls = this.clusterUrls();
    this.links.set(CLUSTER_LINK, this.newLink(urls, maskUrlPassword(urls[0]).replace(/@[^/]+/, `@cluster(${urls.length} nodes)`)));
  }

  /**
   * A mesh message from a host we had not found ourselves: link to its broker too (the
   * reference's "alien"), if the host lies in learnHostsFrom (host-allowlist.ts) and fewer
   * than MAX_LEARNED_HOSTS were learnt: a link logs in with our credentials.
   */
  learnFrom(envelope: Envelope): void {
    const { ctx } = this;
    if (ctx.phase !== 'running' || this.clustered || this.links.has(envelope.host)) return;
    const host = envelope.host;
    const refuse = (counter: 'outside' | 'overLimit', why: string) => {
      this.hostsRefused[counter]++;
      if (this.reportedHosts.has(host)) return;
      this.reportedHosts.add(host);
      ctx.warn(`${ctx.name}: not linking to host ${JSON.stringify(host)} named by a mesh message from ${envelope.sender}: ${why}`);
    };
    if (!this.learnable.allows(host)) return refuse('outside', `outside learnHostsFrom (${this.learnable.describe()}); list it in hosts or widen learnHostsFrom`);
    if (this.learned >= MAX_LEARNED_HOSTS) return refuse('overLimit', `already ${MAX_LEARNED_HOSTS} hosts learnt from messages`);
    this.learned++;
    this.noteAddress(host);
    this.addBroker(host);
  }

  private noteAddress(address: string): void {
    const { lan } = this.ctx;
    if (lan.addresses.includes(address)) return;
    lan.addresses.push(address);
    if (address !== this.ctx.host) lan.other.addresses.push(address);
  }

  private addBroker(address: string): void {
    if (this.links.has(address) || this.ctx.phase === 'stopped') return;
    const url = amqpUrl(this.ctx.config, address);
    this.links.set(address, this.newLink([url], maskUrlPassword(url)));
  }

  /**
   * Mesh: a link to another host's broker that has not been connected for departedLinkMs,
   * while no host source lists that host any more, is closed: the host left. The events it
   * held are dropped and counted ('departed'; their transmissions learn they were not sent).
   * A message from that host later links to it again (learnFrom).
   */
  private async closeDepartedLinks(listed: ReadonlySet<string>): Promise<void> {
    const { ctx } = this;
    const bound = ctx.config.departedLinkMs;
    if (bound <= 0) return;
    for (const [address, link] of [...this.links]) {
      if (address === ctx.host || listed.has(address) || link.notUpForMs < bound) continue;
      const held = link.held;
      this.links.delete(address);
      ctx.lan.addresses = ctx.lan.addresses.filter((a) => a !== address);
      ctx.lan.other.addresses = ctx.lan.other.addresses.filter((a) => a !== address);
      this.departedDrops += held;
      ctx.warn(
        `${ctx.name}: host ${address} left (no source lists it, its broker ${link.broker} unreachable for ${Math.round(link.notUpForMs / 1000)} s): ` +
          `link closed, ${held} held event${held === 1 ? '' : 's'} dropped (departedLinkMs)`,
      );
      const lease = this.linkLeases.get(link);
      this.linkLeases.delete(link);
      if (lease) {
        lease.unlisten();
        await sessionOf(ctx.env).releaseLink(lease.key, 0);
      }
    }
  }

  /** This chart's use of the process's link to `urls` (shared with the other charts of the process). */
  private newLink(urls: string[], label: string): BrokerLink {
    const { ctx } = this;
    const { link, key } = sessionOf(ctx.env).acquireLink({
      urls,
      label,
      connectionName: connectionName('pub', ctx.config.processName, ctx.host),
      heartbeat: ctx.config.heartbeatInterval,
      ...(ctx.config.tls ? { tls: ctx.config.tls.socket } : {}),
      outboxBound: ctx.config.outboxBound,
      maxInFlight: ctx.config.maxInFlight,
      environment: ctx.env,
    });
    const unlistenProblems = link.onProblem((err, cause) => reportLinkProblem(ctx, this.reported, link, label, err, cause));
    const unlistenChannel = link.onChannelError((err) => reportChannelError(ctx, label, err));
    const unlistenStates = link.onState((state, reason) => this.linkStateChanged(link, state, reason));
    const unlisten = () => {
      unlistenProblems();
      unlistenChannel();
      unlistenStates();
    };
    this.linkLeases.set(link, { key, unlisten });
    link.open().catch((err) => ctx.warn(`${ctx.name}: cannot open a link to ${label}: ${(err as Error).message}`));
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
  async waitForLinks(): Promise<void> {
    const { ctx } = this;
    const timeout = ctx.config.startTimeoutMs;
    await Promise.all(
      [...this.links.entries()].map(([address, link]) =>
        address === ctx.host || address === CLUSTER_LINK ? link.whenSettled(timeout) : link.whenSettled(Math.min(timeout, OTHER_LINK_WAIT_MS), { untilFailure: true }),
      ),
    );
    for (const [address, link] of this.links) {
      const snap = link.snapshot();
      const own = address === ctx.host || address === CLUSTER_LINK;
      if (snap.state === 'up' || this.reported.brokers.has(snap.broker) || (!own && snap.lastError === undefined)) continue;
      this.reported.brokers.add(snap.broker);
      ctx.warn(
        `${ctx.name}: link to broker ${snap.broker}${own ? ' (its own broker)' : ''} not up at start (${snap.state}` +
          `${snap.lastError ? `: ${snap.lastError}` : `, after ${timeout} ms`}); ` +
          `starting anyway, the link keeps trying and holds its events`,
      );
    }
  }

  /** A link's change of state: into the evidence file; a block (flow control) is also said, rate-limited. */
  private linkStateChanged(link: BrokerLink, state: LinkState, reason: string | undefined): void {
    const { ctx } = this;
    if (state === 'blocked') {
      ctx.limited.warn(`blocked ${link.broker}`, `${ctx.name}: broker ${link.broker} blocks publishing (${reason ?? 'resource alarm'}); holding events until it unblocks`);
    }
    if (!this.evidence.open) return;
    this.evidence.linkState(link.broker, state, link.machineState, reason, link.snapshot().resent);
  }

  /** Lets every link go (cleanStop: each waits briefly for its unconfirmed events). */
  async close(cleanStop: boolean): Promise<void> {
    this.ctx.env.clearTimeout(this.rediscoverTimer);
    const leases = [...this.linkLeases.values()];
    this.linkLeases.clear();
    this.links.clear();
    await Promise.all(
      leases.map(({ key, unlisten }) => {
        unlisten();
        return sessionOf(this.ctx.env).releaseLink(key, cleanStop ? DRAIN_MS : 0);
      }),
    );
  }
}
