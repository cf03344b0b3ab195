#!/usr/bin/env zx
// broker-restart: the broker of ring member 1 is stopped and started during a token ring; no token may be lost.
//   npx zx scenarios/broker-restart.mjs --nodes 3 [--laps 3] [--timeout S] [--backend local]
import { argv } from 'zx';
import { register } from 'tsx/esm/api';

register(); // the ops modules are TypeScript
const { main } = await import('../ops/scenario/index.ts');
process.exitCode = await main('broker-restart', argv);
