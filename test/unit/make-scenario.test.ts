// `make scenario` forwards every knob to the scenario script: N, BACKEND, CYCLES, SEED, FAULTS,
// INSTANCES, TOPOLOGY (and DIR, OBSERVE). `make -n` prints the command without running it; each
// forwarded flag must also be one the script's --help lists, so the knob reaches the scenario.
import { execFileSync, spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const repo = resolve(import.meta.dirname, '../..');
const haveMake = spawnSync('make', ['--version']).status === 0;

/** The `node scenarios/…` line `make -n scenario VARS…` would run. */
function planned(vars: string[]): string {
  const out = execFileSync('make', ['-n', '--no-print-directory', 'scenario', ...vars], { cwd: repo, encoding: 'utf8' });
  const line = out.split('\n').find((l) => l.startsWith('node scenarios/'));
  if (!line) throw new Error(`make -n printed no scenario command:\n${out}`);
  return line.replace(/\s+/g, ' ').trim();
}

describe.skipIf(!haveMake)(`make scenario${haveMake ? '' : ' (NEEDS make: not run)'}`, () => {
  it('forwards N, BACKEND, CYCLES, SEED, FAULTS, INSTANCES, TOPOLOGY and DIR', () => {
    const line = planned(['S=chaos', 'N=5', 'BACKEND=netns', 'CYCLES=7', 'SEED=42', 'FAULTS=partition,isolate', 'INSTANCES=2', 'TOPOLOGY=clustered', 'DIR=/tmp/somewhere']);
    expect(line).toBe('node scenarios/chaos.mjs --nodes 5 --backend netns --cycles 7 --seed 42 --faults partition,isolate --instances 2 --topology clustered --dir /tmp/somewhere');
  });

  it('defaults: N=3, BACKEND=local, S=mesh-ring, and no knob that was not set', () => {
    expect(planned([])).toBe('node scenarios/mesh-ring.mjs --nodes 3 --backend local');
  });

  it("every forwarded flag is one the chaos script's --help lists", () => {
    const line = planned(['S=chaos', 'CYCLES=1', 'SEED=1', 'FAULTS=partition', 'INSTANCES=1', 'TOPOLOGY=mesh', 'DIR=/tmp/x']);
    const flags = line.split(' ').filter((w) => w.startsWith('--'));
    const help = execFileSync(process.execPath, ['scenarios/chaos.mjs', '--help'], { cwd: repo, encoding: 'utf8' });
    for (const f of flags) expect(help, f).toMatch(new RegExp(`^\\s+${f}\\b`, 'm'));
    expect(flags).toHaveLength(8);
  });

  it('S=scale takes INSTANCES and TOPOLOGY too', () => {
    expect(planned(['S=scale', 'INSTANCES=50', 'TOPOLOGY=clustered'])).toBe('node scenarios/scale.mjs --nodes 3 --backend local --instances 50 --topology clustered');
    const help = execFileSync(process.execPath, ['scenarios/scale.mjs', '--help'], { cwd: repo, encoding: 'utf8' });
    for (const f of ['--nodes', '--backend', '--instances', '--topology']) expect(help, f).toMatch(new RegExp(`^\\s+${f}\\b`, 'm'));
  });

  it('OBSERVE=1 passes --observe, to mesh-ring and to scale, and both scripts take it', () => {
    expect(planned(['S=mesh-ring', 'OBSERVE=1'])).toBe('node scenarios/mesh-ring.mjs --nodes 3 --backend local --observe');
    expect(planned(['S=scale', 'INSTANCES=4', 'OBSERVE=1'])).toBe('node scenarios/scale.mjs --nodes 3 --backend local --instances 4 --observe');
    for (const s of ['mesh-ring', 'scale']) {
      const help = execFileSync(process.execPath, [`scenarios/${s}.mjs`, '--help'], { cwd: repo, encoding: 'utf8' });
      expect(help, s).toMatch(/^\s+--observe\b/m);
    }
  });

  it('a scenario name with a typo fails at once, naming the scenarios', () => {
    const r = spawnSync('make', ['--no-print-directory', 'scenario-exists', 'S=mesh-rign'], { cwd: repo, encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/no scenario 'mesh-rign'; the scenarios are: .*mesh-ring.*spy/);
  });
});
