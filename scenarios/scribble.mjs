#!/usr/bin/env node
// scribble: every instance calls snoopScribble(); all but the last join the trace network
// (the scribble goes there), the last joins only spy (it goes there). The monitor must print
// each one in the scribble format: " [+t] [ts] [NAME] # text" or " [+s] NAME [ts] [NAME] # text".
// A zx script (node or zx).
//   node scenarios/scribble.mjs --nodes 3 [--timeout S] [--backend local]
import { ensureBuilt } from '../scripts/ensure-built.mjs';

ensureBuilt(); // a checkout runs the compiled package (dist/), rebuilt when a source changed
const { scenario, esc, TIMESTAMP: TS } = await import('miros-rabbitmq/scenario');

const scribbleLine = (name, viaSpy) => {
  const n = esc(name);
  return new RegExp(viaSpy ? `^ \\[\\+s\\] ${n} ${TS} \\[${n}\\] # hello from ${n}$` : `^ \\[\\+t\\] ${TS} \\[${n}\\] # hello from ${n}$`);
};

await scenario(
  {
    name: 'scribble',
    description: 'snoopScribble from every instance reaches the monitor in the scribble format.',
    timeoutMs: 20_000,
  },
  async (t) => {
    const last = t.nodes - 1;
    const charts = await t.startAll(
      Array.from({ length: t.nodes }, (_, i) => ({ name: `scribble${i}-${t.id}`, program: 'peer', broker: i, config: i === last ? { spy: 'plain' } : { trace: 'plain' } })),
    );
    const missing = () => charts.filter((c, k) => !t.distributed.some((l) => scribbleLine(c.name, k === last).test(l))).map((c) => `no scribble of ${c.name}`);
    for (const c of charts) c.send({ cmd: 'scribble', text: `hello from ${c.name}` });
    await t.outcome('a scribble of each', () => missing().length === 0);
    await t.stop();
    t.check(`a scribble of each of ${charts.length} instances in distributed.log, in the scribble format`, missing());
  },
);
