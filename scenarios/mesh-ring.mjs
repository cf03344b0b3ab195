#!/usr/bin/env node
// mesh-ring: N charts pass a token around the ring --laps times (default 3) over the mesh;
// passes if every hop arrived once, at the right member, in order. A zx script (node or zx).
//   node scenarios/mesh-ring.mjs --nodes 3 [--laps 3] [--timeout 30] [--backend local]
import { ensureBuilt } from '../scripts/ensure-built.mjs';

ensureBuilt(); // a checkout runs the compiled package (dist/), rebuilt when a source changed
const { scenario, options, ringMembers, hopsOf, ringHops } = await import('miros-rabbitmq/scenario');

await scenario(
  {
    name: 'mesh-ring',
    description: 'N charts pass a token around the ring --laps times over the mesh; every hop must arrive once, at the right member, in order.',
    timeoutMs: 30_000,
    options: [options.count('--laps <n>', 'laps of the token around the ring', 3)],
  },
  async (t, { laps }) => {
    const members = await t.startAll(ringMembers(t.id, t.nodes, { laps }));
    const total = laps * t.nodes;
    t.send({ cmd: 'go' });
    await t.outcome(`hop ${total} back at ${members[0].name}`, () => members[0].got('HOP').some((h) => h.hop === total));
    await t.stop();
    t.check(ringHops(hopsOf(members), members.map((m) => m.name), total));
  },
);
