import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCase } from '../../ops/conformance/run-case.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const fixtureDir = path.join(repoRoot, 'test', 'fixtures', 'conformance');
const casesDir = path.join(fixtureDir, 'cases');
const expectedDir = path.join(fixtureDir, 'expected');

function listCases(): string[] {
  if (!existsSync(casesDir)) return [];
  return readdirSync(casesDir)
    .filter((f) => f.endsWith('.json'))
    .sort();
}

const cases = listCases();
const readJson = (file: string): unknown => JSON.parse(readFileSync(file, 'utf8'));

describe('conformance: engine output equals miros output', () => {
  it('finds the conformance fixtures', () => {
    // fail loudly rather than skip: a missing fixture dir must not look green
    expect(existsSync(casesDir), `conformance cases not found at ${casesDir}`).toBe(true);
    expect(cases.length, `no *.json case in ${casesDir}`).toBeGreaterThan(0);
  });

  it.each(cases)('%s', (file) => {
    const expected = readJson(path.join(expectedDir, file));
    expect(runCase(readJson(path.join(casesDir, file)))).toEqual(expected);
  });
});

describe('conformance: the CLI', () => {
  const cli = (file: string) =>
    spawnSync(process.execPath, [path.join(repoRoot, 'scripts/conformance.mjs'), file], {
      cwd: repoRoot,
      encoding: 'utf8',
    });
  const tmp = mkdtempSync(path.join(tmpdir(), 'conformance-'));
  const writeCase = (name: string, content: string): string => {
    const file = path.join(tmp, name);
    writeFileSync(file, content);
    return file;
  };

  it('prints the expected JSON object for a case', () => {
    const file = cases.includes('topo_c_sibling.json') ? 'topo_c_sibling.json' : cases[0];
    expect(file, 'no case to run').toBeDefined();
    const r = cli(path.join(casesDir, file as string));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(readJson(path.join(expectedDir, file as string)));
  });

  const minimal = { start: 'a', states: { a: { parent: null } } };
  const malformed: Array<[string, string]> = [
    ['invalid JSON', '{"start": "a", '],
    ['a missing start', JSON.stringify({ states: minimal.states })],
    ['an unknown start state', JSON.stringify({ ...minimal, start: 'nope' })],
    ['an unknown parent', JSON.stringify({ start: 'a', states: { a: { parent: 'ghost' } } })],
    ['an unknown trans target', JSON.stringify({ start: 'a', states: { a: { parent: null, handlers: [{ signal: 'A', actions: [{ trans: 'ghost' }] }] } } })],
    ['an unknown action', JSON.stringify({ start: 'a', states: { a: { parent: null, entry: [{ explode: true }] } } })],
    ['a bad guard op', JSON.stringify({ start: 'a', states: { a: { parent: null, handlers: [{ signal: 'A', guard: { attr: 'x', op: '~=', value: 1 }, actions: [] }] } } })],
    ['a bad step', JSON.stringify({ ...minimal, events: [{ teleport: 'A' }] })],
    ['a parent cycle', JSON.stringify({ start: 'a', states: { a: { parent: 'b' }, b: { parent: 'a' } } })],
  ];

  it.each(malformed)('exits 2 with a one-line message for %s', (_what, content) => {
    const r = cli(writeCase(`bad-${Math.random().toString(36).slice(2)}.json`, content));
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr.length).toBeGreaterThan(10);
  });
});
