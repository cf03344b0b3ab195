// The AMQP behaviour suite (test/amqp-behaviour/cases.ts) against the simulated broker
// (miros-rabbitmq/sim). The same cases run against a real node in
// test/integration/amqp-behaviour-real.test.ts: where the two differ, the simulation is wrong.
import { describe, it } from 'vitest';
import { SimWorld } from '../../runtime/sim/index.ts';
import { APP_PERMISSIONS } from '../../ops/rabbit-config/users.ts';
import { cases, type Target } from '../amqp-behaviour/cases.ts';

const HOST = 'rabbit-1';

function simTarget(world: SimWorld): Target {
  // as the testbeds' nodes: the application user peter, limited to miros.* and server-named queues
  const broker = world.broker(HOST, { users: { peter: 'rabbit' }, permissions: { peter: APP_PERMISSIONS } });
  const client = world.process('client');
  let names = 0;
  return {
    kind: 'sim',
    connect: () => client.environment.connect(`amqp://peter:rabbit@${HOST}:5672`),
    sleep: (ms) => world.sleep(ms),
    alarm: async (on) => broker.setAlarm(on),
    crashAndRestart: async () => {
      broker.crash();
      await world.sleep(2000);
      broker.restart();
    },
    unique: (what) => `miros.behaviour.${what}.${++names}`,
  };
}

describe('AMQP behaviour: the simulated broker', () => {
  for (const [i, c] of cases.entries()) {
    // a case that shows a known defect of the simulation runs expected to fail until it is fixed
    (c.simDefect === undefined ? it : it.fails)(c.name, async () => {
      const world = new SimWorld(1000 + i);
      await world.settle(c.run(simTarget(world)), { limitMs: 120_000 });
    });
  }
});
