// The bundled scenarios by name (scenarios/*.mjs in a checkout; the npm package does not ship
// them). Outside ops/scenario/ so that the CLI's help can list them without loading the runner.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from './package-root.ts';

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

