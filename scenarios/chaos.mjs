#!/usr/bin/env node
// chaos: every instance sends continuously while a seeded schedule injects, holds (1-5 s)
// and heals faults; then every promised event must have arrived once, in order. The
// schedule, the fault cycles and the ledger are the chaos modules (ops/scenario/defs/chaos.ts,
// chaos-schedule.ts, chaos-ledger.ts): this script plays that definition in a testbed.
//   node scenarios/chaos.mjs --backend netns --nodes 3 --cycles 100 --seed 7 [--faults partition,kill-broker | --faults all] [--instances 1]
import { ensureBuilt } from '../scripts/ensure-built.mjs';

ensureBuilt(); // a checkout runs the compiled package (dist/), rebuilt when a source changed
const { scenario, options } = await import('miros-rabbitmq/scenario');
const { chaos, DEFAULT_CHAOS_KINDS } = await import('../dist/ops/scenario/defs/chaos.js');
const { parseKinds } = await import('../dist/ops/scenario/chaos-schedule.js');


await scenario(
  {
    name: 'chaos',
    description:
      'every instance sends continuously while a seeded schedule injects, holds (1-5 s) and heals faults; then every promised event must have arrived once, in order, and traffic resumed after each heal (netns or docker).',
    timeoutMs: 60_000, // the definition's own (cycles × 30 s + 3 min) applies unless --timeout is given
    options: [
      options.count('--seed <n>', 'seed of the fault schedule (same seed, same schedule)', 1, 0),
      options.count('--cycles <n>', 'fault cycles', 100),
      options.custom('--faults <kinds>', `fault kinds, comma-separated, or all (every kind of the fault catalogue this backend supports; default ${DEFAULT_CHAOS_KINDS.join(',')})`, (v) => parseKinds(v)),
      options.count('--instances <n>', 'instances per host', 1),
      options.count('--resume-p99 <seconds>', 'the bound of the resume time p99 (0: reported, not checked)', 5, 0),
    ],
    // kinds this backend cannot inject are refused (exit 2, with the reason) before any cluster
    validate: (a) => void chaos({ kinds: a.faults, backend: a.backend }),
  },
  async (t, a) => {
    await t.play(chaos({ seed: a.seed, cycles: a.cycles, kinds: a.faults, instances: a.instances, resumeP99MaxMs: a.resumeP99 * 1000, backend: a.backend }));
  },
);
