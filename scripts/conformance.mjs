#!/usr/bin/env node
// `npm run --silent conformance -- <case.json>`: the compiled conformance runner
// (dist/ops/conformance/cli.js), rebuilt first when a source changed.
import { ensureBuilt } from './ensure-built.mjs';

ensureBuilt();
await import('../dist/ops/conformance/cli.js');
