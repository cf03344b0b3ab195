// The delete-queue fault's account (runtime/sim/broker.ts, faults.ts): what a deleted queue held,
// and the publishes its bindings matched while it was gone (confirmed, routed nowhere) until it
// was bound again: distinct messages, so a resend of the same bytes is one event.
import { describe, expect, it } from 'vitest';
import { SimWorld } from '../../runtime/sim/index.ts';

describe('simulated broker: an operator deletes a queue', () => {
  it('counts what it held, then each distinct message routed nowhere until the queue is bound again', async () => {
    const world = new SimWorld(5);
    const broker = world.broker('rabbit-1');
    const client = world.process('client');
    const run = async () => {
      const conn = await client.environment.connect('amqp://guest:guest@rabbit-1:5672');
      const ch = await conn.createConfirmChannel();
      await ch.assertExchange('miros.x', 'topic', { durable: true });
      await ch.assertExchange('miros.other', 'topic', { durable: true });
      const declare = async () => {
        await ch.assertQueue('miros.q', { durable: true });
        await ch.bindQueue('miros.q', 'miros.x', 'chart.#');
      };
      await declare();
      const publish = async (exchange: string, key: string, body: string) => {
        ch.publish(exchange, key, Buffer.from(body));
        await ch.waitForConfirms();
      };
      await publish('miros.x', 'chart.a', 'held-1');
      await publish('miros.x', 'chart.a', 'held-2');
      const nowhere: string[] = [];
      let rebounds = 0;
      const held = broker.deleteQueueByOperator('miros.q', { routedNowhere: (content) => nowhere.push(content.toString()), rebound: () => rebounds++ });
      expect(held).toBe(2);
      await publish('miros.x', 'chart.a', 'gone-1');
      await publish('miros.x', 'chart.a', 'gone-1'); // a resend: the same bytes
      await publish('miros.x', 'chart.b', 'gone-2');
      await publish('miros.x', 'other.a', 'not-its-binding');
      await publish('miros.other', 'chart.a', 'not-its-exchange');
      expect(rebounds).toBe(0);
      await declare();
      expect(rebounds).toBe(1); // told at the bind, once
      await publish('miros.x', 'chart.a', 'delivered');
      expect(nowhere).toEqual(['gone-1', 'gone-1', 'gone-2']);
      expect((await ch.checkQueue('miros.q')).messageCount).toBe(1); // 'delivered' only
      await conn.close();
    };
    await world.settle(run(), { limitMs: 60_000 });
  });

  it('an operator cannot delete a queue whose node is down', async () => {
    const world = new SimWorld(6);
    const broker = world.broker('rabbit-1');
    const client = world.process('client');
    const run = async () => {
      const conn = await client.environment.connect('amqp://guest:guest@rabbit-1:5672');
      const ch = await conn.createChannel();
      await ch.assertQueue('miros.durable', { durable: true });
      expect(broker.queueIsUp('miros.durable')).toBe(true);
      conn.on('error', () => undefined); // the crash closes it
      broker.crash();
      expect(broker.queueIsUp('miros.durable')).toBe(false);
      expect(broker.queueIsUp('miros.absent')).toBe(false);
      broker.restart();
      expect(broker.queueIsUp('miros.durable')).toBe(true);
    };
    await world.settle(run(), { limitMs: 60_000 });
  });
});
