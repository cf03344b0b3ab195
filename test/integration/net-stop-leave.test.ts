// A graceful stop keeps the chart's queues (issue 21 item 1): a chart stopped by SIGTERM
// (its handler calls stop()) and restarted under the same name on the same host gets every
// event confirmed to its broker meanwhile. Real brokers (the shared local cluster), the
// receiver in a process of its own (fixtures/slow-receiver.mjs).
import { afterEach, describe, expect, it } from 'vitest';
import { Event } from '../../runtime/index.ts';
import { waitFor } from '../../ops/util/wait.ts';
import { RUN, brokers, idle, killReceivers, makeNode, signalReceiver, startReceiver, stopCreated } from './net-helpers.ts';

afterEach(async () => {
  await stopCreated();
  killReceivers();
});

describe('stop keeps the queues', () => {
  it('bob (broker 2) stopped by SIGTERM and restarted gets all 20 events alice sent meanwhile', async () => {
    const name = `bob-${RUN}`;
    const alice = makeNode('alice', 0);
    await alice.chart.startAt(idle);
    const first = startReceiver(name);
    await first.ready;
    const send = async (from: number, count: number) => {
      const results = await Promise.all(Array.from({ length: count }, (_, k) => alice.chart.transmit(new Event('SEQ', { i: from + k })).settled));
      expect(results.every((r) => r.unconfirmed.length === 0)).toBe(true); // confirmed by every broker
    };
    await send(0, 5);
    await waitFor('bob to get the first 5', () => first.got.length === 5, 15_000);
    expect(await signalReceiver(first, 'SIGTERM')).toBe(0); // the graceful path: stop()

    await send(5, 20);
    const second = startReceiver(name);
    await second.ready;
    try {
      await waitFor('the restarted bob to get the 20 sent while it was stopped', () => second.got.length >= 20, 10_000);
    } finally {
      console.log(`[stop-leave] bob before the stop: ${first.got.length} of 5; restarted: ${new Set(second.got).size} of 20`);
    }
    expect([...new Set(second.got)].sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, k) => 5 + k));
    expect(await signalReceiver(second, 'SIGINT')).toBe(0); // leave: the testbed keeps none of its queues
  }, 60_000);

  it('a chart that left (SIGINT: leave()) gets none of what was sent while it was away: its queues went with it', async () => {
    const name = `carol-${RUN}`;
    const alice = makeNode('alice2', 0);
    await alice.chart.startAt(idle);
    const first = startReceiver(name);
    await first.ready;
    expect(await signalReceiver(first, 'SIGINT')).toBe(0); // leave()
    const results = await Promise.all(Array.from({ length: 5 }, (_, i) => alice.chart.transmit(new Event('SEQ', { i })).settled));
    expect(results.every((r) => r.unconfirmed.length === 0)).toBe(true);
    const second = startReceiver(name);
    await second.ready;
    alice.chart.transmit(new Event('SEQ', { i: 99 })); // sent after the restart: a marker that it consumes
    await waitFor('the marker', () => second.got.includes(99), 10_000);
    expect(second.got).toEqual([99]);
    expect(await signalReceiver(second, 'SIGINT')).toBe(0);
  }, 60_000);
});

describe('a consumer the broker cancels', () => {
  it('bob, whose queue an operator deletes, declares it again, consumes again, warns and counts it', async () => {
    const alice = makeNode('alice3', 0);
    const bob = makeNode('bob3', 1);
    await Promise.all([alice, bob].map((n) => n.chart.startAt(idle)));
    const queue = encodeURIComponent(`miros.mesh.${bob.chart.name}`);
    const auth = { authorization: `Basic ${Buffer.from('peter:rabbit').toString('base64')}` };
    const res = await fetch(`${brokers()[1].managementUrl}/api/queues/%2F/${queue}`, { method: 'DELETE', headers: auth });
    expect(res.status).toBe(204);
    await waitFor('the cancel warning', () => bob.warnings.some((w) => w.includes('the broker cancelled its consumer of')), 10_000);
    await waitFor('bob consuming again', () => bob.chart.networkStats().receiving.state === 'up', 10_000);
    const result = await alice.chart.transmit(new Event('PING', { n: 1 })).settled;
    expect(result.unconfirmed).toEqual([]);
    await waitFor('the PING at bob', () => bob.received.some((e) => e.signalName === 'PING'), 10_000);
    expect(bob.chart.networkStats()).toMatchObject({ receiving: { state: 'up', cancels: 1 }, mesh: { cancelled: 1 } });
  }, 60_000);
});
