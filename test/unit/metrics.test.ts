// Prometheus metrics of charts (runtime/net/metrics.ts): what a scrape shows for given
// networkStats(), one set of metrics per registry whatever the number of charts, and the
// library without prom-client: it imports and runs, and asking for metrics names the package.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { NetworkStats } from '../../runtime/net/miros-nets.ts';
import { linkSnapshot, netCounters, networkStats } from './stats-fixture.ts';
import { ChartMetrics, MetricsUnavailableError, loadPromClient, type MetricsSource } from '../../runtime/net/metrics.ts';

const ROOT = join(import.meta.dirname, '../..');

function source(name: string, over: Partial<NetworkStats> = {}): MetricsSource & { s: NetworkStats } {
  const s = networkStats({
    mesh: { ...netCounters(2), delivered: 7, sent: 9, self: 0 },
    trace: netCounters(1),
    brokers: [
      { ...linkSnapshot('amqp://peter:***@127.0.0.11:5672/%2F', 'up', 0, 2, 9), stalledChannels: 1, closedChannels: 2 },
      { ...linkSnapshot('amqp://peter:***@127.0.0.12:5672/%2F', 'down', 4, 1, 5), closedChannels: 1, nackingChannels: 3 },
    ],
    drops: { expired: 3 },
    lamport: 1,
    ...over,
  });
  return { name, s, stats: () => s };
}

const value = (text: string, series: string) => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe('chart metrics', () => {
  it('serves networkStats() on GET /metrics at the port it got (port 0)', async () => {
    const a = source('a');
    const m = await ChartMetrics.start(a, { port: 0 });
    try {
      expect(m.port).toBeGreaterThan(0);
      m.delivered(Date.now() - 40, Date.now());
      m.step(0.2);
      const res = await fetch(`http://127.0.0.1:${m.port}/metrics`);
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(value(text, 'miros_mesh_published_total{chart="a"}')).toBe(9);
      expect(value(text, 'miros_mesh_delivered_total{chart="a"}')).toBe(7);
      expect(value(text, 'miros_confirmed_total{chart="a"}')).toBe(14);
      expect(value(text, 'miros_unconfirmed{chart="a"}')).toBe(7);
      expect(value(text, 'miros_in_flight{chart="a"}')).toBe(3);
      expect(value(text, 'miros_outbox_depth{chart="a"}')).toBe(4);
      expect(value(text, 'miros_duplicates_total{chart="a"}')).toBe(3);
      expect(value(text, 'miros_drops_total{chart="a",reason="expired"}')).toBe(3);
      expect(value(text, 'miros_channels_replaced_total{chart="a",why="stalled"}')).toBe(1);
      expect(value(text, 'miros_channels_replaced_total{chart="a",why="nacking"}')).toBe(3);
      expect(value(text, 'miros_channels_replaced_total{chart="a",why="closed"}')).toBe(3);
      expect(value(text, 'miros_link_state{chart="a",broker="127.0.0.12:5672",state="down"}')).toBe(1);
      expect(value(text, 'miros_link_state{chart="a",broker="127.0.0.12:5672",state="up"}')).toBe(0);
      expect(value(text, 'miros_delivery_latency_seconds_count{chart="a"}')).toBe(1);
      expect(value(text, 'miros_delivery_latency_seconds_bucket{le="0.025",chart="a"}')).toBe(0);
      expect(value(text, 'miros_delivery_latency_seconds_bucket{le="0.05",chart="a"}')).toBe(1);
      expect(value(text, 'miros_rtc_step_seconds_count{chart="a"}')).toBe(1);
      // counters follow the chart between scrapes
      a.s.mesh.sent = 12;
      expect(value(await (await fetch(`http://127.0.0.1:${m.port}/metrics`)).text(), 'miros_mesh_published_total{chart="a"}')).toBe(12);
      expect((await fetch(`http://127.0.0.1:${m.port}/other`)).status).toBe(404);
    } finally {
      await m.close();
    }
    await expect(fetch(`http://127.0.0.1:${m.port}/metrics`)).rejects.toThrow();
  });

  it("registers in the application's registry, one set of metrics for every chart", async () => {
    const registry = new Registry();
    const a = await ChartMetrics.start(source('a'), { registry });
    const b = await ChartMetrics.start(source('b', { mesh: { ...source('x').s.mesh, sent: 1 } }), { registry });
    expect(a.port).toBeUndefined();
    let text = await registry.metrics();
    expect(value(text, 'miros_mesh_published_total{chart="a"}')).toBe(9);
    expect(value(text, 'miros_mesh_published_total{chart="b"}')).toBe(1);
    expect(text.match(/^# TYPE miros_mesh_published_total counter$/gm)).toHaveLength(1);
    await b.close();
    text = await registry.metrics();
    expect(value(text, 'miros_mesh_published_total{chart="b"}')).toBeUndefined();
    await a.close();
  });

  it('says which port is taken', async () => {
    const first = await ChartMetrics.start(source('a'), { port: 0 });
    try {
      await expect(ChartMetrics.start(source('b'), { port: first.port })).rejects.toThrow(`chart b: cannot serve metrics on 127.0.0.1:${first.port} (EADDRINUSE); pick another metrics port`);
    } finally {
      await first.close();
    }
  });

  it('without prom-client: a clear error naming the package', async () => {
    const missing = () => Promise.reject(Object.assign(new Error("Cannot find package 'prom-client'"), { code: 'ERR_MODULE_NOT_FOUND' }));
    const err = await loadPromClient(missing).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MetricsUnavailableError);
    expect((err as Error).message).toMatch(/optional package prom-client is not installed: npm install prom-client@15/);
    // any other failure is not hidden behind it
    await expect(loadPromClient(() => Promise.reject(new SyntaxError('bad')))).rejects.toThrow(SyntaxError);
  });

  it('the built library without prom-client imports and runs; a chart asking for metrics fails at startAt naming the package', () => {
    const script = `
      const { NetworkedFactory, MetricsUnavailableError, generateKey } = await import(${JSON.stringify(join(ROOT, 'dist/runtime/index.js'))});
      const options = { rabbitUser: 'u', rabbitPassword: 'p', meshEncryptionKey: generateKey(), snoopTraceEncryptionKey: generateKey(), snoopSpyEncryptionKey: generateKey(), hosts: ['127.0.0.1'], startTimeoutMs: 500 };
      const plain = new NetworkedFactory('plain', options);
      const top = plain.createState('idle').toMethod();
      const chart = new NetworkedFactory('measured', { ...options, metrics: { port: 0 } });
      const err = await chart.startAt(chart.createState('idle').toMethod()).then(() => undefined, (e) => e);
      console.log(JSON.stringify({ plain: typeof top, isMetricsError: err instanceof MetricsUnavailableError, message: err?.message }));
    `;
    const r = spawnSync(process.execPath, ['--import', join(import.meta.dirname, 'fixtures/no-prom-client.mjs'), '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect(r.stderr).not.toMatch(/Error/);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    expect(out).toEqual({ plain: 'function', isMetricsError: true, message: expect.stringContaining('prom-client is not installed') });
  });
});
