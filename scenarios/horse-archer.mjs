#!/usr/bin/env node
// horse-archer: the reference's networked example; N archers coordinate over the mesh and must re-advance as one unit.
//   node scenarios/horse-archer.mjs --nodes 3 [--compression 100] [--timeout S] [--backend local]
import { ensureBuilt } from '../scripts/ensure-built.mjs';

ensureBuilt(); // runs the compiled testbed (dist/), rebuilt when a source changed
const { main } = await import('../dist/ops/testbed.js');
process.exitCode = await main('horse-archer', process.argv.slice(2));
