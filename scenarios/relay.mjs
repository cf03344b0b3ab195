#!/usr/bin/env node
// relay: a program (docs/simulation.md; default the bundled examples/relay) on real brokers,
// one instance per chart, and the same module in simulation (simulate with --seed); passes
// if both finish, the program's invariant holds in both, and each chart's delivered events
// and each sender's order at each chart are the same in both. The simulated run's evidence
// is in <logs>/sim/.
//   node scenarios/relay.mjs --nodes 3 [--backend netns] [--seed 1] [--program dist/examples/relay/program.js]
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ensureBuilt } from '../scripts/ensure-built.mjs';

ensureBuilt(); // a checkout runs the compiled package (dist/), rebuilt when a source changed
const { scenario, options } = await import('miros-rabbitmq/scenario');
const { simulate, runProgramOnTestbed, deliveryDigest, validateProgram } = await import('miros-rabbitmq/sim');
const BUNDLED = fileURLToPath(new URL('../dist/examples/relay/program.js', import.meta.url));

/** Lines naming what differs between two digests (sim against real). */
function differences(sim, real) {
  const out = [];
  for (const part of ['sets', 'orders']) {
    for (const key of new Set([...Object.keys(sim[part]), ...Object.keys(real[part])])) {
      const [s, r] = [JSON.stringify(sim[part][key] ?? null), JSON.stringify(real[part][key] ?? null)];
      if (s !== r) out.push(`${part} ${key}: simulation ${s}, real ${r}`);
    }
  }
  return out;
}

await scenario(
  {
    name: 'relay',
    description: 'a program (default the bundled relay: three charts, events both ways, timers) on real brokers and in simulation: each must finish with its invariant holding, and every chart must get the same events, each sender\'s in the same order, in both.',
    timeoutMs: 60_000,
    options: [
      options.count('--seed <n>', 'seed of the simulated run', 1, 0),
      options.custom('--program <module>', 'a program module, compiled JavaScript (default: the bundled relay)', (v) => resolve(v)),
    ],
  },
  async (t, { seed, program: modulePath = BUNDLED }) => {
    const mod = await import(pathToFileURL(modulePath).href);
    const program = validateProgram(mod.program ?? mod.default, modulePath);
    const real = await runProgramOnTestbed(t, program, modulePath);
    const sim = await simulate(program, { seed, out: join(t.logDir, 'sim') });
    t.check(`simulation (seed ${seed}): ${program.name} finished, its invariant holds, its log check passes`, sim.problems);
    t.check('sim and real agree: per-chart delivered sets and per-sender orders', differences(deliveryDigest(sim.delivered), deliveryDigest(real.delivered)));
    t.metric('simulation', { seed, node: sim.node, hash: sim.hash, virtualMs: sim.virtualMs, out: sim.out });
  },
);
