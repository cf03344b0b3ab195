#!/usr/bin/env node
// trace: every instance joins the snoop trace network and changes state twice; passes if
// each one's state changes show in every output (blue locally, purple elsewhere).
//   node scenarios/trace.mjs --nodes 3 [--timeout 20] [--backend local]
import { ensureBuilt } from '../scripts/ensure-built.mjs';

ensureBuilt(); // runs the compiled testbed (dist/), rebuilt when a source changed
const { main } = await import('../dist/ops/testbed.js');
process.exitCode = await main('trace', process.argv.slice(2));
