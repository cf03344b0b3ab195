// vitest globalSetup of both projects: compile dist/ once before any test, because
// the CLIs, the conformance runner and scenario instances run compiled JavaScript.
import { ensureBuilt } from '../../scripts/ensure-built.mjs';

export default function setup(): void {
  ensureBuilt();
}
