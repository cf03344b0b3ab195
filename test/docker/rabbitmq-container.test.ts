// The testcontainers helper (ops/testing/container.ts) against a real engine.
import { connect, type GetMessage } from 'amqplib';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { httpGet } from '../../ops/cluster/health.ts';
import { MirosRabbitMQContainer, type StartedMirosRabbitMQContainer } from '../../ops/testing/container.ts';

// A Docker engine answers (scripts/ci-docker.sh starts one, as root); without one the
// suite is skipped and named so in the closing line, never silently absent.
const engine = spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], { encoding: 'utf8', timeout: 10_000 }).status === 0;

describe.skipIf(!engine)(`testcontainers helper${engine ? '' : ' (NEEDS ROOT AND A DOCKER ENGINE: not run; scripts/ci-docker.sh runs it)'}`, () => {
  let rabbit: StartedMirosRabbitMQContainer;

  beforeAll(async () => {
    rabbit = await new MirosRabbitMQContainer().start();
  });

  afterAll(async () => {
    await rabbit?.stop();
  });

  test('getAmqpUrl() reaches the broker as peter: a message goes round a queue', async () => {
    expect(rabbit.getAmqpUrl()).toMatch(/^amqp:\/\/peter:rabbit@[^:]+:\d+\/%2F$/);
    const conn = await connect(rabbit.getAmqpUrl());
    try {
      const ch = await conn.createChannel();
      // peter may use miros.* and server-named queues only (docs/broker-security.md): not the default exchange
      const { queue } = await ch.assertQueue('', { exclusive: true });
      await ch.assertExchange('miros.container.test', 'direct', { durable: false, autoDelete: true });
      await ch.bindQueue(queue, 'miros.container.test', 'hello');
      ch.publish('miros.container.test', 'hello', Buffer.from('hello from a container'));
      let got: GetMessage | false = false;
      for (let i = 0; i < 50 && !got; i++) {
        got = await ch.get(queue, { noAck: true });
        if (!got) await new Promise((r) => setTimeout(r, 50));
      }
      expect(got && got.content.toString()).toBe('hello from a container');
    } finally {
      await conn.close();
    }
  });

  test('management API: peter is no administrator (tag management only), guest does not exist', async () => {
    const peter = { user: 'peter', password: 'rabbit' };
    const me = await httpGet(`${rabbit.getManagementUrl()}/api/whoami`, peter);
    expect(me.status).toBe(200);
    expect(JSON.parse(me.body)).toMatchObject({ name: 'peter', tags: ['management'] });
    const guest = await httpGet(`${rabbit.getManagementUrl()}/api/overview`, { user: 'guest', password: 'guest' });
    expect(guest.status).toBe(401);
    // /api/users needs an administrator: peter is refused
    expect((await httpGet(`${rabbit.getManagementUrl()}/api/users`, peter)).status).not.toBe(200);
  });
});
