// Prometheus metrics of networked charts (docs/metrics.md), off unless asked for with the
// `metrics` option: prom-client (an optional peer dependency) is imported only then. Every
// chart of a registry shares one set of metrics, labelled by chart; counters and gauges read
// networkStats() when scraped (nothing runs between scrapes), the two histograms are
// observed as events are handled.
import { createServer, type Server } from 'node:http';
import type * as PromClient from 'prom-client';
import type { NetworkStats } from './network-stats.ts';
import { brokerName } from './run-stats.ts';

/** What of a prom-client Registry the application and the chart share (a prom-client `Registry`). */
export interface MetricsRegistry {
  metrics(): Promise<string>;
  readonly contentType: string;
}

export interface MetricsOptions {
  /** Serve GET /metrics on this port (0: any free one; `chart.metricsPort()` tells which). */
  port?: number;
  /** Address to serve on (default 127.0.0.1). */
  host?: string;
  /** Or register the metrics in this prom-client Registry, which the application serves itself. */
  registry?: MetricsRegistry;
}

export class MetricsUnavailableError extends Error {
  constructor(cause: unknown) {
    super(
      'metrics were asked for (the metrics option) but the optional package prom-client is not installed: ' +
        'npm install prom-client@15, or leave the metrics option off',
      { cause },
    );
    this.name = 'MetricsUnavailableError';
  }
}

type Prom = typeof PromClient;
/** Imports a module (a test stands in one that fails). */
export type ModuleImporter = () => Promise<unknown>;
const importProm: ModuleImporter = () => import('prom-client');

async function loadProm(importer: ModuleImporter = importProm): Promise<Prom> {
  try {
    const mod = (await importer()) as Prom & { default?: Prom };
    return mod.Registry ? mod : mod.default!;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') throw new MetricsUnavailableError(err);
    throw err;
  }
}

/** Resolves when prom-client can be loaded; rejects with a MetricsUnavailableError naming it when it is not installed. */
export async function loadPromClient(importer?: ModuleImporter): Promise<void> {
  await loadProm(importer);
}

/** What the metrics read of a chart. */
export interface MetricsSource {
  readonly name: string;
  stats(): NetworkStats;
}

const LATENCY_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const STEP_BUCKETS_S = [0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1];
const LINK_STATES = ['connecting', 'up', 'down', 'refused', 'closed'] as const;

interface Shared {
  charts: Set<MetricsSource>;
  latency: PromClient.Histogram<'chart'>;
  step: PromClient.Histogram<'chart'>;
}

/** One set of metrics per registry, whatever number of charts use it. */
const perRegistry = new WeakMap<object, Shared>();

function sharedMetrics(prom: Prom, registry: PromClient.Registry): Shared {
  const known = perRegistry.get(registry);
  if (known) return known;
  const charts = new Set<MetricsSource>();
  const registers = [registry];
  const each = (f: (chart: string, s: NetworkStats) => void) => {
    for (const c of charts) f(c.name, c.stats());
  };
  const counter = (name: string, help: string, value: (s: NetworkStats) => number) =>
    new prom.Counter({
      name, help, labelNames: ['chart'], registers,
      collect() {
        this.reset();
        each((chart, s) => this.inc({ chart }, value(s)));
      },
    });
  const gauge = (name: string, help: string, value: (s: NetworkStats) => number) =>
    new prom.Gauge({
      name, help, labelNames: ['chart'], registers,
      collect() {
        this.reset();
        each((chart, s) => this.set({ chart }, value(s)));
      },
    });
  const sum = (s: NetworkStats, f: (b: NetworkStats['brokers'][number]) => number) => s.brokers.reduce((n, b) => n + f(b), 0);
  counter('miros_mesh_published_total', 'Mesh events transmitted', (s) => s.mesh.sent);
  counter('miros_confirmed_total', 'Copies a broker confirmed (all links of the process, snoop lines included)', (s) => sum(s, (b) => b.confirmed));
  gauge('miros_unconfirmed', 'Copies not yet confirmed: in an outbox or awaiting the confirm', (s) => sum(s, (b) => b.queued + b.inFlight));
  gauge('miros_in_flight', 'Copies published to a broker, awaiting its confirm', (s) => sum(s, (b) => b.inFlight));
  gauge('miros_outbox_depth', 'Copies waiting in an outbox, not yet published', (s) => sum(s, (b) => b.queued));
  counter('miros_mesh_delivered_total', 'Received mesh events posted into the chart', (s) => s.mesh.delivered);
  counter('miros_duplicates_total', 'Received copies dropped as already seen, all networks', (s) => s.mesh.duplicates + s.trace.duplicates + s.spy.duplicates);
  new prom.Counter({
    name: 'miros_drops_total', help: 'Messages lost, by reason (networkStats().drops)', labelNames: ['chart', 'reason'], registers,
    collect() {
      this.reset();
      each((chart, s) => {
        for (const [reason, n] of Object.entries(s.drops)) this.inc({ chart, reason }, n);
      });
    },
  });
  new prom.Counter({
    name: 'miros_channels_replaced_total',
    help: 'Confirm channels replaced, by why: stalled (no confirm for long), nacking (a nack round), closed (the broker closed it with an error)',
    labelNames: ['chart', 'why'], registers,
    collect() {
      this.reset();
      each((chart, s) => {
        this.inc({ chart, why: 'stalled' }, sum(s, (b) => b.stalledChannels));
        this.inc({ chart, why: 'nacking' }, sum(s, (b) => b.nackingChannels));
        this.inc({ chart, why: 'closed' }, sum(s, (b) => b.closedChannels));
      });
    },
  });
  new prom.Gauge({
    name: 'miros_link_state', help: 'Broker link state: 1 for the current state of each link', labelNames: ['chart', 'broker', 'state'], registers,
    collect() {
      this.reset();
      each((chart, s) => {
        for (const b of s.brokers) for (const state of LINK_STATES) this.set({ chart, broker: brokerName(b), state }, b.state === state ? 1 : 0);
      });
    },
  });
  const shared: Shared = {
    charts,
    latency: new prom.Histogram({ name: 'miros_delivery_latency_seconds', help: "A received mesh event's age when the chart handles it (sender's clock)", labelNames: ['chart'], buckets: LATENCY_BUCKETS_S, registers }),
    step: new prom.Histogram({ name: 'miros_rtc_step_seconds', help: 'Run-to-completion step time', labelNames: ['chart'], buckets: STEP_BUCKETS_S, registers }),
  };
  perRegistry.set(registry, shared);
  return shared;
}

/** A chart's metrics: observe what happens, close at stop. */
export class ChartMetrics {
  private constructor(
    private readonly source: MetricsSource,
    private readonly shared: Shared,
    private readonly server: Server | undefined,
    /** The port /metrics is served on (undefined: the application serves the registry). */
    readonly port: number | undefined,
  ) {}

  static async start(source: MetricsSource, options: MetricsOptions, importer?: ModuleImporter): Promise<ChartMetrics> {
    const prom = await loadProm(importer);
    const registry = (options.registry as PromClient.Registry | undefined) ?? new prom.Registry();
    const shared = sharedMetrics(prom, registry);
    shared.charts.add(source);
    if (options.registry) return new ChartMetrics(source, shared, undefined, undefined);
    const server = createServer((req, res) => {
      if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
        res.writeHead(404).end('not found: GET /metrics\n');
        return;
      }
      registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
        (err: Error) => res.writeHead(500).end(`${err.message}\n`),
      );
    });
    const host = options.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    }).catch((err: NodeJS.ErrnoException) => {
      shared.charts.delete(source);
      throw new Error(`chart ${source.name}: cannot serve metrics on ${host}:${options.port ?? 0} (${err.code ?? err.message}); pick another metrics port (0: any free one)`, { cause: err });
    });
    server.unref();
    const address = server.address();
    return new ChartMetrics(source, shared, server, typeof address === 'object' && address ? address.port : undefined);
  }

  /** A received mesh event sent at `sentAt` (ms since the epoch) is being handled at `now` (ms since the epoch). */
  delivered(sentAt: number, now: number): void {
    this.shared.latency.observe({ chart: this.source.name }, Math.max(0, now - sentAt) / 1000);
  }

  /** One run-to-completion step took `ms`. */
  step(ms: number): void {
    this.shared.step.observe({ chart: this.source.name }, ms / 1000);
  }

  async close(): Promise<void> {
    this.shared.charts.delete(this.source);
    const server = this.server;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
