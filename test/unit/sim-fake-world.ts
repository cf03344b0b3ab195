// simulate()'s world port over the prototype FakeWorld (fake-world.ts), for the tests of
// simulate() until runtime/sim/world.ts (SimWorld) is in: one clock and one environment for
// every process (FakeWorld has one), a FakeBroker per host.
import type { SimWorldPort } from '../../runtime/sim/simulate.ts';
import { FakeBroker, FakeWorld } from './fake-world.ts';

export function fakeSimWorld(seed: number): SimWorldPort {
  const world = new FakeWorld({ seed });
  return {
    seed,
    nowMs: () => world.clock.time,
    process: (name) => ({ name, environment: world.environment }),
    broker: (host) => {
      const broker = new FakeBroker(host, world.clock);
      world.brokers.set(host, broker);
      return broker;
    },
    run: async ({ untilMs } = {}) => {
      await world.advance(Math.max(0, (untilMs ?? world.clock.time) - world.clock.time));
    },
  };
}
