#!/usr/bin/env node
// mesh-ring: N charts pass a token around the ring --laps times (default 3) over the mesh;
// passes if every hop arrived once, at the right member, in order.
//   node scenarios/mesh-ring.mjs --nodes 3 [--laps 3] [--timeout 30] [--backend local]
import { ensureBuilt } from '../scripts/ensure-built.mjs';

ensureBuilt(); // runs the compiled testbed (dist/), rebuilt when a source changed
const { main } = await import('../dist/ops/testbed.js');
process.exitCode = await main('mesh-ring', process.argv.slice(2));
