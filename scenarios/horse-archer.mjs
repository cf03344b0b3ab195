#!/usr/bin/env zx
// horse-archer: the reference's networked example; N archers coordinate over the mesh and must re-advance as one unit.
//   npx zx scenarios/horse-archer.mjs --nodes 3 [--compression 100] [--timeout S] [--backend local]
import { argv } from 'zx';
import { register } from 'tsx/esm/api';

register(); // the ops modules are TypeScript
const { main } = await import('../ops/scenario/index.ts');
process.exitCode = await main('horse-archer', argv);
