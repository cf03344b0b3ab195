#!/usr/bin/env zx
// mesh-ring: N charts pass a token around the ring --laps times (default 3) over the mesh;
// passes if every hop arrived once, at the right member, in order.
//   npx zx scenarios/mesh-ring.mjs --nodes 3 [--laps 3] [--timeout 30] [--backend local]
import { argv } from 'zx';
import { register } from 'tsx/esm/api';

register(); // the ops modules are TypeScript
const { main } = await import('../ops/scenario/index.ts');
process.exitCode = await main('mesh-ring', argv);
