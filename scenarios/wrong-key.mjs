#!/usr/bin/env zx
// wrong-key: one instance has another mesh key; it is isolated, the others report it and keep working.
//   npx zx scenarios/wrong-key.mjs --nodes 3 [--timeout S] [--backend local]
import { argv } from 'zx';
import { register } from 'tsx/esm/api';

register(); // the ops modules are TypeScript
const { main } = await import('../ops/scenario/index.ts');
process.exitCode = await main('wrong-key', argv);
