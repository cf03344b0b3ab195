// The bundled scenarios are scripts, scenarios/<name>.mjs (zx or plain Node, on the scenario
// API in api.ts): each one is the whole scenario, command line included. This module only
// finds them (scenarioNames) and runs one as a child process (main: `mirosnet scenario NAME`).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { NOT_SHIPPED, SCENARIOS_DIR, scenarioNames } from '../scenario-names.ts';

export { NOT_SHIPPED, SCENARIOS_DIR, scenarioHelp, scenarioNames } from '../scenario-names.ts';

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
