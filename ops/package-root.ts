// Where this package lives on disk, found from this module's own location: the
// repository when run from source (ops/*.ts) or from dist/ (dist/ops/*.js), and
// node_modules/miros-rabbitmq when installed. Files the package ships (compose/,
// dist/ops/instances/) are found from here; user state (.cluster, logs) never is.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_NAME = 'miros-rabbitmq';

function findPackageRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file) && (JSON.parse(readFileSync(file, 'utf8')) as { name?: string }).name === PACKAGE_NAME) return dir;
    if (dirname(dir) === dir) throw new Error(`cannot find the ${PACKAGE_NAME} package.json above ${from}`);
  }
}

/** The package's root directory (holds package.json). */
export const PACKAGE_ROOT: string = findPackageRoot(dirname(fileURLToPath(import.meta.url)));

/** The package's version, from its package.json. */
export const PACKAGE_VERSION: string = (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/**
 * The compiled JavaScript of a module of the package, e.g. `compiledModule('ops/instances/ring')`:
 * child processes (scenario instances) always run compiled code, never TypeScript.
 */
export function compiledModule(modulePath: string): string {
  return join(PACKAGE_ROOT, 'dist', `${modulePath}.js`);
}
