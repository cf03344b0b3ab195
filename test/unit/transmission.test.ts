// transmit()'s handle, the queue plans of both topologies, and the dial target of a URL.
import { describe, expect, it } from 'vitest';
import { dialTarget } from '../../runtime/net/connection.ts';
import { DEAD_EXCHANGE, QUEUE_EXPIRES_MS, deadQueuePlan, queuePlan } from '../../runtime/net/topology.ts';
import { PendingTransmission } from '../../runtime/net/transmission.ts';

describe('PendingTransmission', () => {
  it('settles once every broker has confirmed or given up, in any order', async () => {
    const t = new PendingTransmission(7);
    const b1 = t.expect('b1');
    const b2 = t.expect('b2');
    t.seal();
    let settled = false;
    void t.settled.then(() => (settled = true));
    t.confirm(b2);
    await Promise.resolve();
    expect(settled).toBe(false);
    t.fail(b1);
    t.confirm(b1); // an outcome counts once
    expect(await t.settled).toEqual({ confirmed: ['b2'], unconfirmed: ['b1'] });
    expect(t.brokers).toEqual(['b1', 'b2']);
    expect(t.seq).toBe(7);
  });

  it('does not settle before it is sealed, and at once when sealed with no broker', async () => {
    const early = new PendingTransmission(1);
    early.confirm(early.expect('b1')); // confirmed before the second broker was even expected
    const b2 = early.expect('b2');
    early.seal();
    early.confirm(b2);
    expect(await early.settled).toEqual({ confirmed: ['b1', 'b2'], unconfirmed: [] });
    expect(await new PendingTransmission(2).seal().settled).toEqual({ confirmed: [], unconfirmed: [] });
  });

  it('settled asked for only after every outcome (its promise is made lazily) still resolves with them', async () => {
    const t = new PendingTransmission(3);
    const b1 = t.expect('b1');
    const b2 = t.expect('b2');
    t.seal();
    t.fail(b2);
    t.confirm(b1);
    expect(await t.settled).toEqual({ confirmed: ['b1'], unconfirmed: ['b2'] });
    expect(t.settled).toBe(t.settled); // one promise
  });
});

describe('queuePlan', () => {
  const o = { messageTtl: 5000 };
  it('queueExpiresMs sets how long the queues of a chart outlive it (default QUEUE_EXPIRES_MS, 10 min), in both topologies', () => {
    expect(QUEUE_EXPIRES_MS).toBe(600_000);
    for (const topology of ['mesh', 'clustered'] as const) {
      expect(queuePlan('mesh', 'a', 'h', { ...o, topology, queueExpiresMs: 90_000 }).options.arguments).toMatchObject({ 'x-expires': 90_000 });
      expect(deadQueuePlan('a', 'h', { topology, queueExpiresMs: 90_000 }).options.arguments).toMatchObject({ 'x-expires': 90_000 });
      expect(queuePlan('mesh', 'a', 'h', { ...o, topology }).options.arguments).toMatchObject({ 'x-expires': QUEUE_EXPIRES_MS });
    }
  });
  it('mesh: classic durable queues named after the chart, exclusive consumer, dead-lettered by name', () => {
    const p = queuePlan('mesh', 'a', '10.0.0.1', { ...o, topology: 'mesh' });
    expect(p).toEqual({
      name: 'miros.mesh.a',
      options: {
        durable: true,
        arguments: { 'x-message-ttl': 5000, 'x-expires': QUEUE_EXPIRES_MS, 'x-dead-letter-exchange': DEAD_EXCHANGE, 'x-dead-letter-routing-key': 'miros.mesh.a' },
      },
      exclusiveConsumer: true,
    });
    expect(deadQueuePlan('a', '10.0.0.1', { topology: 'mesh' }).name).toBe('miros.dead.a');
  });

  it('clustered: the host is part of every name; the mesh queue is a quorum queue with single active consumer', () => {
    const mesh = queuePlan('mesh', 'a', '10.0.0.1', { ...o, topology: 'clustered' });
    expect(mesh.name).toBe('miros.mesh.a@10.0.0.1');
    expect(mesh.options.arguments).toMatchObject({ 'x-queue-type': 'quorum', 'x-single-active-consumer': true, 'x-message-ttl': 5000 });
    expect(mesh.exclusiveConsumer).toBe(false);
    const trace = queuePlan('trace', 'a', '10.0.0.1', { ...o, topology: 'clustered' });
    expect(trace).toMatchObject({ name: 'miros.trace.a@10.0.0.1', options: { exclusive: true, durable: false }, exclusiveConsumer: true });
    expect(trace.options.arguments?.['x-queue-type']).toBeUndefined(); // snoop queues stay classic
    expect(deadQueuePlan('a', '10.0.0.1', { topology: 'clustered' })).toMatchObject({
      name: 'miros.dead.a@10.0.0.1',
      options: { arguments: { 'x-queue-type': 'quorum' } },
    });
    expect(queuePlan('mesh', 'a', '10.0.0.2', { ...o, topology: 'clustered' }).name).not.toBe(mesh.name);
  });
});

describe('dialTarget', () => {
  it('turns the reference URL into amqplib object form, with the heartbeat in seconds', () => {
    expect(dialTarget('amqp://pe%40ter:r%2Fabbit@10.0.0.1:5673/%2F?connection_attempts=3&heartbeat_interval=10', 10)).toEqual({
      protocol: 'amqp',
      hostname: '10.0.0.1',
      port: 5673,
      username: 'pe@ter',
      password: 'r/abbit',
      vhost: '/',
      heartbeat: 10,
    });
    expect(dialTarget('amqps://u:p@[::1]/v', 0)).toMatchObject({ protocol: 'amqps', hostname: '::1', port: 5671, vhost: 'v' });
  });
});
