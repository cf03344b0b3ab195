#!/usr/bin/env node
// scribble: snoopScribble from every instance reaches the monitor in the scribble format.
//   node scenarios/scribble.mjs --nodes 3 [--timeout S] [--backend local]
import { ensureBuilt } from '../scripts/ensure-built.mjs';

ensureBuilt(); // runs the compiled testbed (dist/), rebuilt when a source changed
const { main } = await import('../dist/ops/testbed.js');
process.exitCode = await main('scribble', process.argv.slice(2));
