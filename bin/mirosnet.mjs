#!/usr/bin/env node
// `mirosnet` (package.json "bin"): runs ops/cli.ts through tsx, no build step.
import { register } from 'tsx/esm/api';

register();
await import('../ops/cli.ts');
