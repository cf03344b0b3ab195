import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Event, OutboxOverflowError } from '../../runtime/index.ts';
import { up } from '../../ops/cluster/index.ts';
import { sleep, waitFor } from '../../ops/util/wait.ts';
import { brokers, idle, makeNode, stopCreated, type Recorder } from './net-helpers.ts';

const clusterDir = () => dirname(process.env.MIROS_CLUSTER_FILE ?? join(process.cwd(), '.cluster', 'cluster.json'));

describe('delivery: outbox, broker restarts, late hosts', () => {
  let nodes: Recorder[] = [];
  afterEach(stopCreated);

  it('loses no mesh event while the receiving broker restarts mid-stream (1,500 events)', async () => {
    const a = makeNode('rs-a', 0);
    const b = makeNode('rs-b', 1);
    nodes = [a, b];
    await Promise.all(nodes.map((n) => n.chart.startAt(idle)));
    const TOTAL = 1500;
    const restartAt = 300;
    const node2 = brokers()[1];
    let restarted: Promise<void> | undefined;
    for (let i = 0; i < TOTAL; i++) {
      a.chart.transmit(new Event('SEQ', { i }));
      if (i === restartAt) {
        restarted = (async () => {
          process.kill(node2.pid as number, 'SIGTERM');
          await waitFor('broker 2 down', () => !isAlive(node2.pid as number), 60_000);
          await up({ dir: clusterDir(), log: () => undefined });
        })();
      }
      await sleep(i > restartAt && i < restartAt + 400 ? 20 : 2); // keep sending while it is away
    }
    await restarted;
    await waitFor(`${TOTAL} events at b`, () => b.received.length >= TOTAL, 90_000);
    await sleep(500);
    const seen = b.received.map((e) => (e.payload as { i: number }).i);
    expect(seen).toEqual([...Array(TOTAL).keys()]); // all, once, in order
    const link = a.chart.networkStats().brokers.find((l) => l.broker.includes(node2.host))!;
    expect(link.reconnects).toBeGreaterThanOrEqual(1);
    expect(a.warnings.join('\n')).toContain(node2.host); // the outage was reported
  }, 180_000);

  it('fails loudly, never silently, when an outbox overflows, and keeps serving the other brokers', async () => {
    const errors: OutboxOverflowError[] = [];
    const all = brokers();
    const a = makeNode('of-a', 0, {
      hosts: [all[0].host, all[1].host, '127.0.0.253'],
      outboxBound: 5,
      onDeliveryError: (err) => errors.push(err),
    });
    const b = makeNode('of-b', 1);
    nodes = [a, b];
    await Promise.all(nodes.map((n) => n.chart.startAt(idle)));
    for (let i = 0; i < 12; i++) a.chart.transmit(new Event('OVER', { i }));
    await waitFor('12 events at b', () => b.received.length === 12);
    expect(errors).toHaveLength(7);
    expect(errors[0]).toBeInstanceOf(OutboxOverflowError);
    expect(errors[0].message).toMatch(/127\.0\.0\.253.*full \(5 events\)/);
    expect(errors[0].message).not.toContain('rabbit@'); // no password in messages
    expect(a.chart.networkStats().deliveryErrors).toBe(7);
  });

  it('picks up a host that appears later, without restarting anyone', async () => {
    const all = brokers();
    const dir = mkdtempSync(join(tmpdir(), 'miros-hosts-'));
    const hostsFile = join(dir, 'hosts.json');
    writeFileSync(hostsFile, JSON.stringify({ hosts: [all[0].host, all[1].host] }));
    const a = makeNode('lj-a', 0, { hosts: [], hostsFile, rediscoverIntervalMs: 300 });
    const b = makeNode('lj-b', 1, { hosts: [all[0].host, all[1].host] });
    nodes = [a, b];
    await Promise.all(nodes.map((n) => n.chart.startAt(idle)));
    // the late joiner: its broker is not in anyone's list
    const c = makeNode('lj-c', 2, { hosts: [all[2].host] });
    nodes.push(c);
    await c.chart.startAt(idle);
    // 1. the hosts file grows: a finds broker 3 on its next rediscovery
    writeFileSync(hostsFile, JSON.stringify({ hosts: all.slice(0, 3).map((n) => n.host) }));
    await waitFor('a links to broker 3', () => a.chart.lan.other.addresses.includes(all[2].host), 5000);
    await waitFor('a link to broker 3 up', () => a.chart.networkStats().brokers.some((l) => l.broker.includes(all[2].host) && l.state === 'up'));
    a.chart.transmit(new Event('FROM_A'));
    await waitFor('FROM_A at c', () => c.received.some((e) => e.signalName === 'FROM_A'));
    // 2. c only listed its own broker: it learnt a's from a's message ("alien" discovery) and can answer
    await waitFor('c links to broker 1', () => c.chart.lan.other.addresses.includes(all[0].host));
    await waitFor('c link to broker 1 up', () => c.chart.networkStats().brokers.some((l) => l.broker.includes(all[0].host) && l.state === 'up'));
    c.chart.transmit(new Event('HELLO_FROM_C'));
    await waitFor('c hello at a', () => a.received.some((e) => e.signalName === 'HELLO_FROM_C'));
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}
