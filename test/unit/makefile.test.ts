// The Makefile as a newcomer meets it: `make` alone lists the targets and installs nothing,
// and every .PHONY target has a rule.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const makefile = readFileSync(path.join(root, 'Makefile'), 'utf8');

describe('Makefile', () => {
  it('`make` alone is `make help`: it lists the targets and would run nothing else', () => {
    const dry = spawnSync('make', ['-n'], { cwd: root, encoding: 'utf8' });
    expect(dry.status).toBe(0);
    expect(dry.stdout).not.toMatch(/npm (ci|install)/);
    const help = spawnSync('make', [], { cwd: root, encoding: 'utf8' });
    expect(help.status).toBe(0);
    for (const target of ['cluster', 'test', 'down', 'status', 'scenario', 'fault']) expect(help.stdout).toMatch(new RegExp(`^  ${target}\\s`, 'm'));
  });

  it('declares no phony target without a rule', () => {
    const phony = /^\.PHONY:(.*)$/m.exec(makefile)![1]!.trim().split(/\s+/);
    const missing = phony.filter((t) => !new RegExp(`^${t}:`, 'm').test(makefile));
    expect(missing).toEqual([]);
  });
});
