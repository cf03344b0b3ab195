#!/usr/bin/env node
// broker-restart: a token ring (hops 100 ms apart) while the broker of member 1 is restarted
// (the restart-broker fault: SIGTERM, wait until gone, start, wait until healthy). Durable
// queues, persistent mesh events and the senders' outboxes must carry the token through:
// every hop arrives once, in order. A zx script (node or zx).
//   node scenarios/broker-restart.mjs --nodes 3 [--laps 3] [--timeout S] [--backend local]
import { ensureBuilt } from '../scripts/ensure-built.mjs';

ensureBuilt(); // a checkout runs the compiled package (dist/), rebuilt when a source changed
const { scenario, options, ringMembers, hopsOf, ringHops } = await import('miros-rabbitmq/scenario');

await scenario(
  {
    name: 'broker-restart',
    description: 'the broker of ring member 1 is stopped and started during a token ring; no token may be lost.',
    timeoutMs: 120_000,
    options: [options.count('--laps <n>', 'laps of the token around the ring', 3)],
  },
  async (t, { laps }) => {
    const members = await t.startAll(ringMembers(t.id, t.nodes, { laps, delayMs: 100 }, 'br'));
    const [first] = members;
    const total = laps * t.nodes;
    const hopAtFirst = (hop) => first.got('HOP').some((h) => h.hop === hop);
    t.send({ cmd: 'go' });
    // after one lap, while the next token heads for member 1
    await t.waitFor('the first lap', () => hopAtFirst(t.nodes), 30_000);
    const started = Date.now();
    t.log(`restarting broker ${t.hosts[1]}`);
    const r = await t.fault.restartBroker(1);
    t.log(`broker ${t.hosts[1]}: ${r.detail}, in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    await t.outcome(`hop ${total} back at ${first.name}`, () => hopAtFirst(total));
    await t.stop();
    t.check(ringHops(hopsOf(members), members.map((m) => m.name), total));
  },
);
