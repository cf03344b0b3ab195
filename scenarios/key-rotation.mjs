#!/usr/bin/env node
// key-rotation: the mesh key is rotated in two steps ([old,new], then [new,old], then [new]) across running
//   instances while they transmit; every event must arrive exactly once.
//   node scenarios/key-rotation.mjs --nodes 3 [--timeout S] [--backend local]
import { ensureBuilt } from '../scripts/ensure-built.mjs';

ensureBuilt(); // runs the compiled testbed (dist/), rebuilt when a source changed
const { main } = await import('../dist/ops/testbed.js');
process.exitCode = await main('key-rotation', process.argv.slice(2));
