#!/usr/bin/env node
// trace: every instance joins the snoop trace network (with colour) and toggles twice; each
// one's state changes must appear in every instance's output, blue in its own and purple in
// the others', and plain in distributed.log. A zx script (node or zx).
//   node scenarios/trace.mjs --nodes 3 [--timeout 20] [--backend local]
import { ensureBuilt } from '../scripts/ensure-built.mjs';

ensureBuilt(); // a checkout runs the compiled package (dist/), rebuilt when a source changed
const { scenario, traceEverywhere, toggleTwice, allToggled, TOGGLES } = await import('miros-rabbitmq/scenario');

await scenario(
  {
    name: 'trace',
    description: 'every instance joins the snoop trace network and changes state twice; its changes must show in every output.',
    timeoutMs: 20_000,
  },
  async (t) => {
    const charts = await t.startAll(Array.from({ length: t.nodes }, (_, i) => ({ name: `trace${i}-${t.id}`, program: 'peer', broker: i, config: { trace: 'color' } })));
    const everywhere = () => traceEverywhere(new Map(charts.map((c) => [c.name, c.lines])), t.distributed, TOGGLES);
    await toggleTwice(t.run);
    await t.outcome('every state change in every output', () => allToggled(t.run) && everywhere().pass);
    await t.stop();
    t.check(everywhere());
  },
);
