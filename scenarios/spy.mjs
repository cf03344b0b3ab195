#!/usr/bin/env node
// spy: the first instance joins spy + trace, the others trace only; passes if spy lines come
// only from the first and grep -F "[+s]" distributed.log | grep NAME equals its local spy log.
//   node scenarios/spy.mjs --nodes 3 [--timeout 20] [--backend local]
import { ensureBuilt } from '../scripts/ensure-built.mjs';

ensureBuilt(); // runs the compiled testbed (dist/), rebuilt when a source changed
const { main } = await import('../dist/ops/testbed.js');
process.exitCode = await main('spy', process.argv.slice(2));
