#!/usr/bin/env zx
// trace: every instance joins the snoop trace network and changes state twice; passes if
// each one's state changes show in every output (blue locally, purple elsewhere).
//   npx zx scenarios/trace.mjs --nodes 3 [--timeout 20] [--backend local]
import { argv } from 'zx';
import { register } from 'tsx/esm/api';

register(); // the ops modules are TypeScript
const { main } = await import('../ops/scenario/index.ts');
process.exitCode = await main('trace', argv);
