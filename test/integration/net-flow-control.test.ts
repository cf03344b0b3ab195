// RabbitMQ's flow control against a real broker (issue 30): the memory alarm raised on one
// node (set_vm_memory_high_watermark 0) blocks our publishing connection; the link shows
// 'blocked', nothing is resent and no channel replaced however long it lasts (past the stall
// watchdog's period); once the alarm clears (0.4, RabbitMQ's default) every event is
// confirmed and delivered.
import { afterEach, describe, expect, it } from 'vitest';
import { Event } from '../../runtime/index.ts';
import { openCluster } from '../../ops/cluster/index.ts';
import { rabbitmqctl } from '../../ops/cluster/join.ts';
import { nodeSpec } from '../../ops/cluster/options.ts';
import { sleep, waitFor } from '../../ops/util/wait.ts';
import { CONFIRM_STALL_MS } from '../../runtime/net/broker-link.ts';
import { brokers, idle, makeNode, stopCreated } from './net-helpers.ts';

const EVENTS = 20;

async function watermark(nodeIndex: number, value: string): Promise<void> {
  const cluster = await openCluster();
  if (cluster.options.backend === 'docker') throw new Error('net-flow-control: the docker backend is not supported here (rabbitmqctl runs in the container)');
  await rabbitmqctl(cluster.options, nodeSpec(cluster.options, cluster.file.nodes[nodeIndex]!.index), ['set_vm_memory_high_watermark', value], 20_000);
}

describe('flow control (connection.blocked)', () => {
  let alarmOn: number | undefined;
  afterEach(async () => {
    if (alarmOn !== undefined) await watermark(alarmOn, '0.4'); // never leave the alarm on for the next test
    alarmOn = undefined;
    await stopCreated();
  });

  it('a memory alarm blocks the link: no resend, no channel replacement; cleared, every event is confirmed and delivered', async () => {
    const all = brokers();
    const [a, b] = [makeNode('flow-a', 0), makeNode('flow-b', 1)];
    await Promise.all([a, b].map((n) => n.chart.startAt(idle)));
    const blockedHost = all[1].host;
    const linkTo = () => a.chart.networkStats().brokers.find((l) => l.broker.includes(`@${blockedHost}:`))!;

    alarmOn = 1;
    await watermark(1, '0');
    const handles = Array.from({ length: EVENTS }, (_, n) => a.chart.transmit(new Event('FLOW', { n })));
    await waitFor('the link to the alarmed broker to be blocked', () => linkTo().state === 'blocked', 15_000);
    expect(linkTo().blocked.reason).toMatch(/memory/);
    expect(a.chart.networkStats().blockedBrokers).toBeGreaterThanOrEqual(1);
    await sleep(CONFIRM_STALL_MS + 1000); // past the stall watchdog's period: it must not fire while blocked
    expect(linkTo()).toMatchObject({ state: 'blocked', stalledChannels: 0, resent: 0, reconnects: 0 });
    expect(b.received).toHaveLength(0);

    await watermark(1, '0.4');
    alarmOn = undefined;
    await waitFor('the link to be up again', () => linkTo().state === 'up', 15_000);
    await waitFor(`b to receive all ${EVENTS} events`, () => b.received.length >= EVENTS, 15_000);
    const results = await Promise.all(handles.map((h) => h.settled));
    expect(results.filter((r) => r.unconfirmed.length > 0)).toEqual([]);
    expect(results.every((r) => r.confirmed.some((c) => c.includes(`@${blockedHost}:`)))).toBe(true);
    const link = linkTo();
    expect(link).toMatchObject({ state: 'up', stalledChannels: 0, resent: 0, queued: 0, inFlight: 0, blocked: { count: 1 } });
    expect(link.blocked.totalMs).toBeGreaterThan(CONFIRM_STALL_MS);
    expect(b.received.map((e) => (e.payload as { n: number }).n)).toEqual(Array.from({ length: EVENTS }, (_, n) => n));
    expect(b.chart.networkStats().mesh.duplicates).toBe(0);
    expect(a.warnings.filter((w) => w.includes('blocks publishing'))).toHaveLength(1);
  }, 60_000);
});
