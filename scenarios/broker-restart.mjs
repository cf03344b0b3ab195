#!/usr/bin/env node
// broker-restart: the broker of ring member 1 is stopped and started during a token ring; no token may be lost.
//   node scenarios/broker-restart.mjs --nodes 3 [--laps 3] [--timeout S] [--backend local]
import { ensureBuilt } from '../scripts/ensure-built.mjs';

ensureBuilt(); // runs the compiled testbed (dist/), rebuilt when a source changed
const { main } = await import('../dist/ops/testbed.js');
process.exitCode = await main('broker-restart', process.argv.slice(2));
