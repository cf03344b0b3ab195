#!/usr/bin/env zx
// scribble: snoopScribble from every instance reaches the monitor in the scribble format.
//   npx zx scenarios/scribble.mjs --nodes 3 [--timeout S] [--backend local]
import { argv } from 'zx';
import { register } from 'tsx/esm/api';

register(); // the ops modules are TypeScript
const { main } = await import('../ops/scenario/index.ts');
process.exitCode = await main('scribble', argv);
