// The instance programs serve their chart's Prometheus metrics on port 0 of their host
// address and say the port in READY: two peers on real brokers, one transmits to the
// other, and a scrape of each shows what it sent and what it got.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import type { InstanceConfig } from '../../ops/instances/common.ts';
import { generateKey } from '../../runtime/index.ts';
import { until } from '../../ops/util/wait.ts';
import { MESH_KEY, RUN, brokers } from './net-helpers.ts';

const repo = resolve(import.meta.dirname, '../..');
const children: ChildProcessWithoutNullStreams[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGTERM');
});

interface Peer {
  name: string;
  host: string;
  controls: Array<{ tag: string; data: Record<string, unknown> }>;
  send(c: object): void;
  exited: Promise<number | null>;
}

function startPeer(name: string, broker: number): Peer {
  const all = brokers();
  const cfg: InstanceConfig = {
    name, host: all[broker].host, hosts: all.map((b) => b.host), user: 'peter', password: 'rabbit',
    meshKey: MESH_KEY, traceKey: generateKey(), spyKey: generateKey(), tx: `metrics.${RUN}`, rx: `metrics.${RUN}`, rediscoverIntervalMs: 0,
  };
  const child = spawn(process.execPath, [join(repo, 'dist/ops/instances/peer.js')], { env: { ...process.env, MIROS_INSTANCE: JSON.stringify(cfg) } });
  children.push(child);
  const controls: Peer['controls'] = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    const m = /^@@(\S+) (.*)$/.exec(line);
    if (m) controls.push({ tag: m[1], data: JSON.parse(m[2]) });
  });
  child.stderr.on('data', (d) => process.stderr.write(`[${name}] ${d}`));
  return {
    name, host: cfg.host, controls,
    send: (c) => child.stdin.write(`${JSON.stringify(c)}\n`),
    exited: new Promise((r) => child.on('exit', (code) => r(code))),
  };
}

const ready = (p: Peer) => p.controls.find((c) => c.tag === 'READY')?.data;
const scrape = async (p: Peer) => (await fetch(`http://${p.host}:${ready(p)!.metricsPort}/metrics`)).text();
const value = (text: string, series: string) => Number(text.split('\n').find((l) => l.startsWith(`${series} `))?.split(' ')[1]);

describe('broker metrics', () => {
  it('every node of the testbed serves rabbitmq_prometheus on the port cluster.json names, queue metrics included', async () => {
    for (const node of brokers()) {
      expect(node.prometheusPort, node.name).toBe(15692);
      const res = await fetch(`http://${node.host}:${node.prometheusPort}/metrics`);
      expect(res.status, node.name).toBe(200);
      const text = await res.text();
      expect(text, node.name).toMatch(/^rabbitmq_queues \d+/m);
      expect(text, node.name).toMatch(/^rabbitmq_queue_messages_ready \d+/m);
    }
  });
});

describe('instance metrics', () => {
  it('each instance serves /metrics on the port READY names; the counts follow the mesh', async () => {
    const a = startPeer(`metrics-a-${RUN}`, 0);
    const b = startPeer(`metrics-b-${RUN}`, 1);
    expect(await until(() => ready(a) !== undefined && ready(b) !== undefined, 30_000, 50)).toBe(true);
    for (const p of [a, b]) expect(ready(p)!.metricsPort).toEqual(expect.any(Number));
    expect(ready(a)!.metricsPort).not.toBe(0);
    a.send({ cmd: 'transmit', signal: 'PING', payload: { n: 1 } });
    expect(await until(() => b.controls.some((c) => c.tag === 'GOT'), 20_000, 50)).toBe(true);
    const textA = await scrape(a);
    const textB = await scrape(b);
    expect(value(textA, `miros_mesh_published_total{chart="${a.name}"}`)).toBe(1);
    expect(value(textB, `miros_mesh_delivered_total{chart="${b.name}"}`)).toBe(1);
    expect(value(textB, `miros_delivery_latency_seconds_count{chart="${b.name}"}`)).toBe(1);
    expect(value(textA, `miros_link_state{chart="${a.name}",broker="${a.host}:5672",state="up"}`)).toBe(1);
    expect(value(textB, `miros_rtc_step_seconds_count{chart="${b.name}"}`)).toBeGreaterThanOrEqual(1); // PING's step
    a.send({ cmd: 'stop' });
    b.send({ cmd: 'stop' });
    expect(await Promise.all([a.exited, b.exited])).toEqual([0, 0]);
  });
});
