#!/usr/bin/env zx
// spy: the seed's debugging setup. The first instance joins spy + trace, the others trace
// only. Passes if spy lines come only from the first (in distributed.log and in every
// output), and `grep -F '[+s]' distributed.log | grep NAME` equals NAME's local spy log: the
// lines its own engine spied, written at stop to NAME.spy.log. A zx script: the grep is $.
//   node scenarios/spy.mjs --nodes 3 [--timeout 20] [--backend local]
import { join } from 'node:path';
import { ensureBuilt } from '../scripts/ensure-built.mjs';

ensureBuilt(); // a checkout runs the compiled package (dist/), rebuilt when a source changed
const { scenario, spyInvariant, toggleTwice, allToggled, TOGGLES } = await import('miros-rabbitmq/scenario');
const { $ } = await import('zx');

await scenario(
  {
    name: 'spy',
    description: 'the first instance joins spy + trace, the others trace only; spy lines must come only from the first, as in its local spy log.',
    timeoutMs: 20_000,
  },
  async (t) => {
    const [first, ...rest] = await t.startAll(
      Array.from({ length: t.nodes }, (_, i) => ({ name: `spy${i}-${t.id}`, program: 'peer', broker: i, config: i === 0 ? { trace: 'color', spy: 'color' } : { trace: 'color' } })),
    );
    await toggleTwice(t.run);
    await t.outcome(`the spy lines of ${first.name}`, () => allToggled(t.run) && t.distributed.some((l) => l.startsWith(` [+s] ${first.name} TOGGLE:busy`)));
    await t.stop(); // writes the local spy log

    const spyLines = t.run.snoop().filter((l) => l.startsWith(' [+s] '));
    const strangers = spyLines.filter((l) => !l.startsWith(` [+s] ${first.name} `));
    t.check(`spy lines only from ${first.name}`, [...strangers.slice(0, 3).map((l) => `distributed.log: ${l}`), ...(spyLines.length ? [] : ['no spy lines at all'])]);
    t.check('only the spying instance prints spy lines', [
      ...rest.filter((i) => i.lines.some((l) => l.startsWith(' [+s] '))).map((i) => `${i.name} printed spy lines`),
      ...(first.lines.some((l) => l.includes('[+s]')) ? [] : [`${first.name} printed none`]),
    ]);
    const grepped = await $`grep -F '[+s]' ${join(t.logDir, 'distributed.log')} | grep -F ${first.name}`.nothrow().quiet();
    const local = t.readLog(`${first.name}.spy.log`).split('\n').filter(Boolean);
    t.check(spyInvariant(first.name, grepped.stdout.split('\n').filter(Boolean), local));
    t.check('no spy lines of the trace-only instances in distributed.log', rest.filter((i) => spyLines.some((l) => l.includes(i.name))).map((i) => i.name));
    t.check('trace lines of every instance in distributed.log', [first, ...rest].filter((i) => !t.distributed.some((l) => l.includes(`[${i.name}] ${TOGGLES[1]}`))).map((i) => i.name));
  },
);
