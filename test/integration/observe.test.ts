// `--observe`: a real Prometheus (Debian's) scrapes every node's rabbitmq_prometheus and every
// instance of a mesh-ring run; its HTTP API then answers for each. Skipped by name when
// prometheus is not installed (mirosnet install-deps --observe).
import { existsSync, readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { OBSERVE_PORT, PROMETHEUS_BIN, stopObserve } from '../../ops/observe/prometheus.ts';
import { until } from '../../ops/util/wait.ts';
import { brokers } from './net-helpers.ts';
import { scenario } from './scenario-helpers.ts';

const have = existsSync(PROMETHEUS_BIN);
const clusterDir = () => dirname(process.env.MIROS_CLUSTER_FILE!);

async function query(expr: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
  const res = await fetch(`http://127.0.0.1:${OBSERVE_PORT}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const body = (await res.json()) as { status: string; data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
  expect(body.status).toBe('success');
  return body.data.result;
}

describe.skipIf(!have)(`observe${have ? '' : ` (NEEDS PROMETHEUS: not run; ${PROMETHEUS_BIN} missing, as root mirosnet install-deps --observe installs it)`}`, () => {
  afterAll(async () => {
    await stopObserve(clusterDir());
  });

  it('mesh-ring --observe: Prometheus has delivered_total of every instance and the queue metrics of every node', async () => {
    const r = await scenario('mesh-ring', 3, ['--observe']);
    expect(r.pass, r.summary).toBe(true);
    expect(r.output).toMatch(/observe: Prometheus at http:\/\/127\.0\.0\.1:9090/);
    const instances = readdirSync(r.logDir).filter((f) => f.endsWith('.jsonl') && f !== 'distributed.jsonl').map((f) => f.replace(/\.jsonl$/, '')).sort();
    expect(instances.length).toBe(3);
    // the instances are gone (their series are stale now): their last samples
    const delivered = await query('last_over_time(miros_mesh_delivered_total{job="miros"}[15m])');
    const byInstance = new Map(delivered.map((d) => [d.metric.instance_name, Number(d.value[1])]));
    for (const name of instances) expect(byInstance.get(name), `${name} in ${[...byInstance.keys()].join(', ')}`).toBeGreaterThanOrEqual(1); // each got the token
    // the nodes are scraped on Prometheus's own schedule: on a loaded machine the first scrape of a
    // node can come after the run ends (the instances are scraped once more before they stop)
    const nodes = brokers().map((b) => `${b.host}:${b.prometheusPort}`).sort();
    let queues = await query('rabbitmq_queues');
    await until(async () => (queues = await query('rabbitmq_queues')).length >= nodes.length, 30_000, 500);
    expect(queues.map((q) => q.metric.instance).sort()).toEqual(nodes);
    const ready = await query('sum by (instance) (rabbitmq_queue_messages_ready)');
    expect(ready).toHaveLength(brokers().length);
  });
});
