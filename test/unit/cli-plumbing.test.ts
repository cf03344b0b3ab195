// mirosnet as its neighbours behave: a closed pipe ends it quietly, `help` of an unknown
// command is a usage error, `scenario --help` names the scenarios.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const cli = path.join(root, 'bin', 'mirosnet.mjs');
const mirosnet = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });

describe('mirosnet output plumbing', () => {
  it('`mirosnet --help | head -1` under pipefail: status 0 and nothing on stderr, 20 times of 20', () => {
    const failures: string[] = [];
    for (let i = 0; i < 20; i++) {
      const r = spawnSync('bash', ['-c', `set -o pipefail; "${process.execPath}" "${cli}" --help | head -1 >/dev/null`], { cwd: root, encoding: 'utf8' });
      if (r.status !== 0 || r.stderr !== '') failures.push(`run ${i + 1}: status ${r.status}, stderr ${r.stderr.split('\n')[0]}`);
    }
    expect(failures).toEqual([]);
  });

  // the scenario runs in a child with the same stdout: it must leave as quietly as mirosnet does
  it('`mirosnet scenario mesh-ring --help | head -1` under pipefail: status 0 and nothing on stderr, 5 times of 5', () => {
    const failures: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = spawnSync('bash', ['-c', `set -o pipefail; "${process.execPath}" "${cli}" scenario mesh-ring --help | head -1 >/dev/null`], { cwd: root, encoding: 'utf8' });
      if (r.status !== 0 || r.stderr !== '') failures.push(`run ${i + 1}: status ${r.status}, stderr ${r.stderr.split('\n')[0]}`);
    }
    expect(failures).toEqual([]);
  });

  it('`help NAME` of no command says so and exits 2; of a command, shows its help', () => {
    const r = mirosnet('help', 'nope');
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^mirosnet: unknown command 'nope'; the commands are: cluster, .*keygen/);
    const k = mirosnet('help', 'keygen');
    expect(k.status).toBe(0);
    expect(k.stdout).toMatch(/^Usage: mirosnet keygen/);
  });

  it('`scenario --help` lists the bundled scenarios', () => {
    const r = mirosnet('scenario', '--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Scenarios: .*\bchaos\b.*\bmesh-ring\b.*\bwrong-key\b/m);
  });
});
