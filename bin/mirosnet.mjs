#!/usr/bin/env node
// `mirosnet` (package.json "bin"): runs the compiled CLI (dist/ops/cli.js). In a
// checkout it first rebuilds dist/ when a source changed; an installed package has
// no scripts/ and runs dist/ as shipped.
import { existsSync } from 'node:fs';

const dev = new URL('../scripts/ensure-built.mjs', import.meta.url);
if (existsSync(dev)) (await import(dev.href)).ensureBuilt();
await import('../dist/ops/cli.js');
