// One real-broker test per hole of issue 22 (SECURITY.md): an attacker with the broker
// credentials but no Fernet key redirects or replays captured events; a holder of only the
// snoop trace key names a host of its choosing and harvests the broker credentials there.
import { connect, createServer, type Server, type Socket } from 'node:net';
import amqplib, { type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib';
import { afterEach, describe, expect, it } from 'vitest';
import { Event, generateKey, type NetworkedOptions } from '../../runtime/index.ts';
import { encodeEnvelope } from '../../runtime/net/envelope.ts';
import { Fernet } from '../../runtime/net/fernet.ts';
import { EXCHANGES, SNOOP_ROUTING_KEYS, SNOOP_SIGNALS } from '../../runtime/net/topology.ts';
import { sleep, waitFor } from '../../ops/util/wait.ts';
import { brokers, idle, makeNode, stopCreated } from './net-helpers.ts';

/** A raw AMQP client with the application's credentials: it can bind queues and publish, it has no Fernet key. */
async function intruder(host: string): Promise<{ conn: ChannelModel; ch: Channel }> {
  const conn = await amqplib.connect({ hostname: host, port: 5672, username: 'peter', password: 'rabbit', vhost: '/' });
  const ch = await conn.createChannel();
  return { conn, ch };
}

/** Binds a queue of the intruder's own to the mesh exchange; `first()` waits for the first message it copies. */
async function capture(ch: Channel, bindingKey: string): Promise<{ first: () => Promise<ConsumeMessage> }> {
  await ch.assertExchange(EXCHANGES.mesh, 'topic', { durable: true });
  const { queue } = await ch.assertQueue('', { exclusive: true, autoDelete: true });
  await ch.bindQueue(queue, EXCHANGES.mesh, bindingKey);
  let got: ConsumeMessage | undefined;
  await ch.consume(queue, (msg) => (got ??= msg ?? undefined), { noAck: true });
  return {
    first: async () => {
      await waitFor(`the intruder's copy of a message to ${bindingKey}`, () => got !== undefined);
      return got!;
    },
  };
}

/** Publishes the captured bytes and properties again, unchanged, with `routingKey`. */
function republish(ch: Channel, msg: ConsumeMessage, routingKey: string, times: number): void {
  const p = msg.properties;
  const options = {
    headers: p.headers,
    contentType: p.contentType,
    appId: p.appId,
    persistent: p.deliveryMode === 2,
  };
  for (let i = 0; i < times; i++) ch.publish(EXCHANGES.mesh, routingKey, msg.content, options);
}

describe('security: events bound to where they were sent, a replay bound, no credentials to hosts named by messages', () => {
  const closers: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    await stopCreated();
    for (const close of closers.splice(0)) await close().catch(() => undefined);
  });

  it('redirect: copies of an event to valve.one republished to valve.two never reach valve2 and count as misrouted', async () => {
    const all = brokers();
    const tx = makeNode('valve-tx', 0, { txRoutingKey: 'valve.one', rxRoutingKey: 'nobody.listens' });
    const valve1 = makeNode('valve1', 1, { rxRoutingKey: 'valve.one' });
    const valve2 = makeNode('valve2', 1, { rxRoutingKey: 'valve.two' });
    await Promise.all([tx, valve1, valve2].map((n) => n.chart.startAt(idle)));
    const { conn, ch } = await intruder(all[1].host);
    closers.push(() => conn.close());
    const captured = await capture(ch, 'valve.one');

    tx.chart.transmit(new Event('OPEN', { valve: 1 }));
    const msg = await captured.first();
    await waitFor('OPEN at valve1', () => valve1.received.some((e) => e.signalName === 'OPEN'));
    republish(ch, msg, 'valve.two', 5);

    await waitFor('valve2 has had the 5 copies', () => valve2.chart.networkStats().mesh.received >= 5);
    await sleep(200); // a handler run would follow its delivery at once
    expect(valve2.received.filter((e) => e.signalName === 'OPEN')).toHaveLength(0);
    const mesh = valve2.chart.networkStats().mesh;
    expect(mesh.droppedBy.misrouted).toBe(5);
    expect(valve2.chart.networkStats().drops.misrouted).toBe(5);
    expect(valve1.received.filter((e) => e.signalName === 'OPEN')).toHaveLength(1);
  });

  it('replay: the same captured bytes republished after the bound to a restarted receiver are dropped and counted', async () => {
    const all = brokers();
    // a short bound (messageTtl + clockSkewMs = 2 s) so the test waits seconds, not minutes
    const bound: NetworkedOptions = { messageTtl: 1000, clockSkewMs: 1000 };
    const tx = makeNode('replay-tx', 0, { txRoutingKey: 'door.open', rxRoutingKey: 'nobody.listens' });
    const first = makeNode('door', 1, { rxRoutingKey: 'door.#', ...bound });
    await Promise.all([tx, first].map((n) => n.chart.startAt(idle)));
    const { conn, ch } = await intruder(all[1].host);
    closers.push(() => conn.close());
    const captured = await capture(ch, 'door.#');

    tx.chart.transmit(new Event('UNLOCK'));
    const msg = await captured.first();
    await waitFor('UNLOCK at the door', () => first.received.some((e) => e.signalName === 'UNLOCK'));
    // the receiver restarts (its dedup windows are gone) and the bound passes (Fernet stamps whole seconds)
    await first.chart.stop();
    const door = makeNode('door', 1, { rxRoutingKey: 'door.#', ...bound });
    await door.chart.startAt(idle);
    await sleep(4500);
    republish(ch, msg, msg.fields.routingKey, 3);

    await waitFor('the restarted door has had the 3 copies', () => door.chart.networkStats().mesh.received >= 3);
    await sleep(200);
    expect(door.received.filter((e) => e.signalName === 'UNLOCK')).toHaveLength(0);
    expect(door.chart.networkStats().mesh.droppedBy.replay).toBe(3);
    expect(door.chart.networkStats().drops.replay).toBe(3);
  });

  it('outage: events an outbox held for longer than the replay bound are all delivered (stamped when published)', async () => {
    const all = brokers();
    const bound: NetworkedOptions = { messageTtl: 1000, clockSkewMs: 1000 }; // 2 s (+1 s for whole-second stamps)
    // the far broker is reached through a forwarder that is not there yet: the outage
    const PROXY = '127.0.0.78';
    const pipes: Socket[] = [];
    const forwarder: Server = createServer((client) => {
      const upstream = connect(5672, all[1].host);
      pipes.push(client, upstream);
      client.pipe(upstream).pipe(client);
      const end = () => (client.destroy(), upstream.destroy());
      client.on('error', end).on('close', end);
      upstream.on('error', end).on('close', end);
    });
    closers.push(async () => {
      for (const socket of pipes) socket.destroy();
      await new Promise((resolve) => forwarder.close(resolve));
    });
    const tx = makeNode('held-tx', 0, { hosts: [all[0].host, PROXY], txRoutingKey: 'held.go', rxRoutingKey: 'nobody.listens' });
    const rx = makeNode('held-rx', 1, { hosts: [all[1].host], rxRoutingKey: 'held.#', ...bound });
    await Promise.all([tx, rx].map((n) => n.chart.startAt(idle)));
    const N = 20;
    for (let i = 0; i < N; i++) tx.chart.transmit(new Event('HELD', { i }));
    await sleep(4500); // longer than the bound: bodies stamped at transmit() would now be replays
    await new Promise<void>((resolve, reject) => {
      forwarder.once('error', reject);
      forwarder.listen(5672, PROXY, () => resolve());
    });
    await waitFor(`${N} held events at rx`, () => rx.received.filter((e) => e.signalName === 'HELD').length === N, 30_000);
    expect(rx.received.map((e) => (e.payload as { i: number }).i)).toEqual([...Array(N).keys()]);
    expect(rx.chart.networkStats().mesh.dropped).toBe(0);
  });

  it('harvest: a trace message naming a fake AMQP listener as its host makes no login attempt there', async () => {
    const all = brokers();
    // the fake broker: a loopback address no broker uses, on the AMQP port every link dials
    const connections: Socket[] = [];
    const server: Server = createServer((socket) => {
      connections.push(socket);
      socket.destroy();
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(5672, '127.0.0.77', () => resolve());
    });
    closers.push(() => new Promise((resolve) => server.close(resolve)));

    const traceKey = generateKey();
    const observer = makeNode('observer', 1, { snoopTraceEncryptionKey: traceKey });
    observer.chart.enableSnoopTrace();
    await observer.chart.startAt(idle);

    // a holder of only the snoop trace key writes a trace line claiming to come from 127.0.0.77
    const { conn, ch } = await intruder(all[1].host);
    closers.push(() => conn.close());
    const body = encodeEnvelope(new Fernet(traceKey), {
      sender: 'lure',
      host: '127.0.0.77',
      seq: 1,
      ts: Date.now(),
      signal: SNOOP_SIGNALS.trace,
      payload: '[2026-12-07 01:00:00.000000] [lure] e->start_at() top->idle',
      // bound to where it goes: the key holder can write a destination that passes
      net: 'trace',
      rk: SNOOP_ROUTING_KEYS.trace,
    });
    ch.publish(EXCHANGES.trace, SNOOP_ROUTING_KEYS.trace, body, { contentType: 'application/octet-stream' });

    await waitFor('the observer has the lure line', () => observer.lines.some((line) => line.includes('lure')));
    await sleep(1000); // a link would dial at once (and retry); give it time to show up
    expect(connections).toHaveLength(0);
    expect(observer.chart.networkStats().brokers.map((b) => b.broker).join(' ')).not.toContain('127.0.0.77');
  });
});
