#!/usr/bin/env node
// late-joiner: an instance and its broker (node N+1) start after the others; it must be discovered and join the mesh without restarts.
//   node scenarios/late-joiner.mjs --nodes 3 [--timeout S] [--backend local]
import { ensureBuilt } from '../scripts/ensure-built.mjs';

ensureBuilt(); // runs the compiled testbed (dist/), rebuilt when a source changed
const { main } = await import('../dist/ops/testbed.js');
process.exitCode = await main('late-joiner', process.argv.slice(2));
