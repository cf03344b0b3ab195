// In a checkout (not in an installed package): compiles runtime/ and ops/ into dist/
// when dist/ is missing or older than a source file, so every command runs compiled
// JavaScript without a separate build step. Cheap when fresh (a stat per source file).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const marker = join(root, 'dist', 'ops', 'cli.js'); // every build rewrites it

function newestSource(dir, newest = 0) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) newest = newestSource(p, newest);
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/** True when dist/ is missing or older than runtime/, ops/, examples/relay/ or the build config. */
export function isStale() {
  if (!existsSync(marker)) return true;
  const built = statSync(marker).mtimeMs;
  const config = ['tsconfig.json', 'tsconfig.build.json', 'package.json'].map((f) => statSync(join(root, f)).mtimeMs);
  return Math.max(newestSource(join(root, 'runtime')), newestSource(join(root, 'ops')), newestSource(join(root, 'examples', 'relay')), ...config) > built;
}

/** Builds dist/ if stale; exits the process with tsc's errors if the build fails. */
export function ensureBuilt() {
  if (!isStale()) return;
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  if (!existsSync(tsc)) {
    console.error('miros-rabbitmq: dist/ is missing or stale and TypeScript is not installed: run `npm ci`, then `npm run build`');
    process.exit(1);
  }
  process.stderr.write('miros-rabbitmq: compiling runtime/ and ops/ into dist/ (sources changed) …\n');
  const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error('miros-rabbitmq: the build failed (errors above): fix them, then run the command again');
    process.exit(1);
  }
}
