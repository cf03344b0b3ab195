// The bundled scenarios are scripts, scenarios/<name>.mjs (zx or plain Node, on the scenario
// API in api.ts): each one is the whole scenario, command line included. This module only
// finds them (scenarioNames) and runs one as a child process (main: `mirosnet scenario NAME`).
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../package-root.ts';

/** Where the bundled scenario scripts are: a checkout's scenarios/ (the npm package does not ship them). */
export const SCENARIOS_DIR = join(PACKAGE_ROOT, 'scenarios');

/** The scenarios/*.mjs scripts by name. */
export function scenarioNames(): string[] {
  if (!existsSync(SCENARIOS_DIR)) return [];
  return readdirSync(SCENARIOS_DIR)
    .filter((f) => f.endsWith('.mjs'))
    .map((f) => f.slice(0, -'.mjs'.length))
    .sort();
}

/**
 * Runs scenarios/<name>.mjs with `argv` (its own options: --help lists them), output passed
 * through, and resolves to its exit status: 0 pass, 1 fail, 2 usage error. An unknown name:
 * one line naming the scenarios on stderr, 2.
 */
export async function main(name: string, argv: string[]): Promise<number> {
  const names = scenarioNames();
  if (!names.includes(name)) {
    process.stderr.write(
      names.length
        ? `no scenario '${name}'; the scenarios are: ${names.join(', ')}\n`
        : `no scenario '${name}': the bundled scenarios are scripts in a checkout's scenarios/ (not in the npm package); run your own with node your-scenario.mjs\n`,
    );
    return 2;
  }
  const child = spawn(process.execPath, [join(SCENARIOS_DIR, `${name}.mjs`), ...argv], { stdio: 'inherit' });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}
