#!/usr/bin/env zx
// late-joiner: an instance and its broker (node N+1) start after the others; it must be discovered and join the mesh without restarts.
//   npx zx scenarios/late-joiner.mjs --nodes 3 [--timeout S] [--backend local]
import { argv } from 'zx';
import { register } from 'tsx/esm/api';

register(); // the ops modules are TypeScript
const { main } = await import('../ops/scenario/index.ts');
process.exitCode = await main('late-joiner', argv);
