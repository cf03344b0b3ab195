#!/usr/bin/env node
// wrong-key: one instance has another mesh key; it is isolated, the others report it and keep working.
//   node scenarios/wrong-key.mjs --nodes 3 [--timeout S] [--backend local]
import { ensureBuilt } from '../scripts/ensure-built.mjs';

ensureBuilt(); // runs the compiled testbed (dist/), rebuilt when a source changed
const { main } = await import('../dist/ops/testbed.js');
process.exitCode = await main('wrong-key', process.argv.slice(2));
