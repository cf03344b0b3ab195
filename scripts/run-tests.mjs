#!/usr/bin/env node
// Runs every vitest project, then names every suite that did not run (and why, from
// its title: NEEDS ROOT …) and prints the plain closing line CI counts:
// "N passed, N failed[, N skipped]" (from vitest's JSON reporter). Extra args go to vitest.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { relative } from 'node:path';
import { ensureBuilt } from './ensure-built.mjs';

ensureBuilt(); // once, before the projects run in parallel
const report = '.vitest-report.json';
rmSync(report, { force: true });
const vitest = new URL('../node_modules/vitest/vitest.mjs', import.meta.url).pathname;
const run = spawnSync(
  process.execPath,
  [vitest, 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)],
  { stdio: 'inherit' },
);
let passed = 0;
let failed = 0;
let skipped = 0;
const notRun = new Map(); // "file > suite" -> number of tests
try {
  const r = JSON.parse(readFileSync(report, 'utf8'));
  passed = r.numPassedTests;
  // a file that failed before running any test (import error, failing hook) counts as one failure
  const brokenFiles = (r.testResults ?? []).filter((f) => f.status === 'failed' && (f.assertionResults ?? []).length === 0).length;
  failed = r.numFailedTests + brokenFiles;
  skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  for (const file of r.testResults ?? []) {
    for (const t of file.assertionResults ?? []) {
      if (t.status !== 'skipped' && t.status !== 'pending' && t.status !== 'todo') continue;
      const key = `${relative(process.cwd(), file.name)} > ${t.ancestorTitles?.[0] ?? t.title}`;
      notRun.set(key, (notRun.get(key) ?? 0) + 1);
    }
  }
} catch (err) {
  console.error(`test summary: could not read ${report} (${err.message}); vitest exited ${run.status}`);
  failed = Math.max(failed, 1);
}
if (run.status !== 0 && failed === 0) {
  // vitest failed outside any test (a global setup, an unhandled error): never report that as green
  console.error(`test summary: vitest exited ${run.status} with no failed test: an error outside the tests (see above)`);
  failed = 1;
}
for (const [suite, n] of notRun) console.log(`not run: ${suite} (${n} test${n === 1 ? '' : 's'})`);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(run.status === 0 && failed === 0 && passed > 0 ? 0 : 1);
