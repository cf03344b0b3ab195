#!/usr/bin/env node
// chaos: every instance sends continuously while a seeded schedule injects, holds (1-5 s)
// and heals faults; then every promised event must have arrived once, in order.
//   node scenarios/chaos.mjs --backend netns --nodes 3 --cycles 100 --seed 7 [--faults partition,kill-broker] [--instances 1]
import { ensureBuilt } from '../scripts/ensure-built.mjs';

ensureBuilt(); // runs the compiled testbed (dist/), rebuilt when a source changed
const { main } = await import('../dist/ops/testbed.js');
process.exitCode = await main('chaos', process.argv.slice(2));
