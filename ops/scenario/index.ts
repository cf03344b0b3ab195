// The bundled scenarios are scripts, scenarios/<name>.mjs (zx or plain Node, on the scenario
// API in api.ts): each one is the whole scenario, command line included. This module only
// finds them (scenarioNames) and runs one as a child process (main: `mirosnet scenario NAME`).
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../package-root.ts';

/** Where the bundled scenario scripts are: a checkout's scenarios/ (the npm package does not ship them). */
export const SCENARIOS_DIR = join(PACKAGE_ROOT, 'scenarios');

/** What an installed package says about the bundled scenarios (they ship with the repository only). */
export const NOT_SHIPPED =
  "the bundled scenarios are scripts in the repository's scenarios/, not in the npm package: run them from a clone (make scenario S=NAME), or write your own on miros-rabbitmq/scenario and run it with node";

/** The scenarios/*.mjs scripts by name. */
export function scenarioNames(): string[] {
  if (!existsSync(SCENARIOS_DIR)) return [];
  return readdirSync(SCENARIOS_DIR)
    .filter((f) => f.endsWith('.mjs'))
    .map((f) => f.slice(0, -'.mjs'.length))
    .sort();
}

/** For `mirosnet scenario --help`: the scenarios there are, or why there are none. */
export function scenarioHelp(): string {
  const names = scenarioNames();
  return names.length ? `\nScenarios: ${names.join(', ')}` : `\nNo scenarios here: ${NOT_SHIPPED}.`;
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
        : `no scenario '${name}': ${NOT_SHIPPED}\n`,
    );
    return 2;
  }
  const child = spawn(process.execPath, [join(SCENARIOS_DIR, `${name}.mjs`), ...argv], { stdio: 'inherit' });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}
