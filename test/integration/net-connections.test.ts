// Charts of one process share its connections: one publishing connection per broker and one
// consuming connection to its own broker, however many charts run (each chart its own channel
// and queues on it); each connection names its process and host (connection_name), as the
// broker's own management API lists them.
import { afterEach, describe, expect, it } from 'vitest';
import { Event } from '../../runtime/index.ts';
import { until, waitFor } from '../../ops/util/wait.ts';
import { RUN, brokers, idle, makeNode, stopCreated } from './net-helpers.ts';

interface ApiConnection {
  client_properties?: { connection_name?: string };
}

async function connectionNames(managementUrl: string): Promise<string[]> {
  const res = await fetch(`${managementUrl}/api/connections?columns=client_properties`, {
    headers: { authorization: `Basic ${Buffer.from('peter:rabbit').toString('base64')}` },
  });
  if (!res.ok) throw new Error(`${managementUrl}/api/connections: HTTP ${res.status}`);
  return ((await res.json()) as ApiConnection[]).map((c) => c.client_properties?.connection_name ?? '');
}

afterEach(stopCreated);

describe('connections of a process', () => {
  it('three charts on one host: one named publishing connection per broker and one consuming connection, shared', async () => {
    const all = brokers().slice(0, 3);
    const program = `conn-${RUN}`;
    const charts = ['c1', 'c2', 'c3'].map((name) => makeNode(name, 0, { processName: program }));
    const peer = makeNode('c-peer', 1);
    await Promise.all([...charts, peer].map((n) => n.chart.startAt(idle)));
    for (const n of charts) n.chart.transmit(new Event('HELLO', { from: n.chart.name }));
    await waitFor('three events at the peer', () => peer.received.length === 3, 20_000);

    const pub = `miros/pub ${program}[${process.pid}]@${all[0].host}`;
    const sub = `miros/sub ${program}[${process.pid}]@${all[0].host}`;
    let names: string[][] = [];
    // the management API refreshes its connection list every few seconds: ask until it has ours
    const listed = await until(async () => {
      names = await Promise.all(all.map((b) => connectionNames(b.managementUrl)));
      return names.every((list) => list.includes(pub));
    }, 30_000, 500);
    expect(listed).toBe(true);
    for (const list of names) expect(list.filter((n) => n === pub)).toHaveLength(1); // shared by the three charts
    expect(names[0].filter((n) => n === sub)).toHaveLength(1); // each chart consumes its own queues, on its own channel of one connection
    expect(names[1].filter((n) => n === sub)).toHaveLength(0);
  }, 90_000);
});
