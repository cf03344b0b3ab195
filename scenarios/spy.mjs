#!/usr/bin/env zx
// spy: the first instance joins spy + trace, the others trace only; passes if spy lines come
// only from the first and grep -F "[+s]" distributed.log | grep NAME equals its local spy log.
//   npx zx scenarios/spy.mjs --nodes 3 [--timeout 20] [--backend local]
import { argv } from 'zx';
import { register } from 'tsx/esm/api';

register(); // the ops modules are TypeScript
const { main } = await import('../ops/scenario/index.ts');
process.exitCode = await main('spy', argv);
