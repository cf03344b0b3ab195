// The fault catalogue: every row is whole (its heal names a row, chaos uses have what the
// schedule needs), a new kind is its row and its implementation (here a dummy one, added the
// way a new kind is), the faults in force follow inject and undo, and chaos --faults all
// offers only what a backend supports.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CATALOGUE, type Catalogue, type FaultSpec, arity, chaosKinds, chaosKindsFor, checkArgs, defaultChaosKinds, usage } from '../../ops/faults/catalogue.ts';
import { faultsInForce, injectFault, undoFault } from '../../ops/faults/in-force.ts';
import { type FaultOptions, record } from '../../ops/faults/record.ts';
import { chaosSchedule, parseKinds, resolveKinds } from '../../ops/scenario/chaos-schedule.ts';

const temps: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mirosnet-catalogue-'));
  temps.push(dir);
  return dir;
}
afterAll(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));

// the dummy kind's "implementation file": what it did, for the assertions
const done: string[] = [];
async function flood(host: string, rate: number, _opts: FaultOptions) {
  done.push(`flood ${host} ${rate}`);
  return record('flood', [host], 'local', `${rate} junk messages/s at ${host}`, { kind: 'unflood', target: [host] });
}
async function unflood(host: string, _opts: FaultOptions) {
  done.push(`unflood ${host}`);
  return record('unflood', [host], 'local', `flood of ${host} stopped`);
}
// …and its rows in the catalogue
const rows: Record<string, FaultSpec> = {
  flood: {
    summary: 'junk messages at a host',
    params: [{ name: 'node', kind: 'node' }, { name: 'rate', kind: 'number', what: 'the rate (messages/s)' }],
    inject: (args, o) => flood(args[0], Number(args[1]), o),
    heal: 'unflood',
    writes: 'target: the host; detail: the rate',
    chaos: { target: 'host', paths: 'broker', expectedLoss: 'none', draw: (rnd) => ({ rate: 1 + Math.floor(rnd() * 10) }) },
  },
  unflood: { summary: 'stop a flood', params: [{ name: 'node', kind: 'node' }], inject: ([a], o) => unflood(a, o), writes: 'target: the host' },
};
const withDummy: Catalogue = { ...CATALOGUE, ...rows };

describe('the fault catalogue', () => {
  it('every heal names a kind of the catalogue; chaos uses are in the defaults of the recorded seeds', () => {
    for (const [kind, spec] of Object.entries(CATALOGUE)) {
      if (spec.heal) expect(Object.keys(CATALOGUE), `${kind}'s heal`).toContain(spec.heal);
      expect(spec.writes, kind).not.toBe('');
    }
    expect(defaultChaosKinds()).toEqual(['partition', 'isolate', 'kill-broker', 'pause-broker', 'restart-broker', 'kill-instance', 'latency']);
  });

  it('arity and usage come from the parameters', () => {
    expect(arity(CATALOGUE.latency)).toEqual([2, 3]);
    expect(usage('latency', CATALOGUE.latency)).toBe('latency NODE MS [JITTER]');
    expect(checkArgs('heal', [])).toBeUndefined();
    expect(checkArgs('partition', ['n1'])).toBe('partition takes 2 nodes, got 1 (n1)');
    expect(checkArgs('loss', ['n1', '5'])).toMatch(/unknown fault kind 'loss'/);
  });

  it('chaos --faults all is every chaos kind the backend supports: no network kinds on local', () => {
    expect(chaosKindsFor('local')).toEqual(['kill-broker', 'pause-broker', 'restart-broker', 'kill-instance', 'term-instance', 'drop-connections', 'delete-queue', 'clock-step', 'alarm']);
    expect(chaosKindsFor('netns')).toEqual(chaosKinds());
    expect(chaosKindsFor('docker')).not.toContain('clock-step'); // the instance image has no faketime
    const noToxics = { signal: true, restart: true, exec: true, partition: true, isolate: true, toxify: { reason: 'not root' }, clock: true } as const;
    expect(chaosKindsFor('docker', noToxics)).not.toContain('latency');
    expect(parseKinds('all')).toBe('all');
    expect(resolveKinds('all', 'local')).toEqual(chaosKindsFor('local'));
  });
});

describe('a new kind is its implementation and its row, nothing else', () => {
  it('the arguments are checked from its row', () => {
    expect(checkArgs('flood', ['n1'], withDummy)).toBe('flood takes 2 nodes, got 1 (n1)');
    expect(checkArgs('flood', ['n1', 'lots'], withDummy)).toBe('flood: the rate (messages/s) must be a number, got lots');
    expect(checkArgs('flood', ['n1', '5'], withDummy)).toBeUndefined();
  });

  it('chaos offers it, schedules it with its drawn numbers, and --faults names it', () => {
    expect(chaosKinds(withDummy)).toContain('flood');
    expect(chaosKindsFor('local', undefined, withDummy)).toContain('flood');
    expect(parseKinds('flood,kill-broker', withDummy)).toEqual(['flood', 'kill-broker']);
    expect(() => parseKinds('flood')).toThrow(/unknown fault kind\(s\) flood/);
    const plan = chaosSchedule({ seed: 3, cycles: 20, kinds: ['flood'], hosts: ['n1', 'n2'], instances: [], catalogue: withDummy });
    for (const f of plan) {
      expect(f.kind).toBe('flood');
      expect(['n1', 'n2']).toContain(f.target[0]);
      expect(f.numbers?.rate).toBeGreaterThanOrEqual(1);
    }
  });

  it('injected by name it is in force until its undo runs', async () => {
    const dir = tempDir();
    done.length = 0;
    const rec = await injectFault('flood', ['n2', 7], { dir }, { catalogue: withDummy });
    expect(rec).toMatchObject({ kind: 'flood', target: ['n2'], undo: { kind: 'unflood', target: ['n2'] } });
    expect(faultsInForce(dir).faults.map((f) => f.kind)).toEqual(['flood']);
    await undoFault(rec, { dir }, withDummy);
    expect(done).toEqual(['flood n2 7', 'unflood n2']);
    expect(faultsInForce(dir).faults).toEqual([]);
    await expect(injectFault('flood', ['n2'], { dir }, { catalogue: withDummy })).rejects.toThrow(/flood takes 2 nodes, got 1/);
  });
});

describe('the faults in force', () => {
  it('a heal of one host covers the partition it is part of; a heal with no target covers every heal', async () => {
    const dir = tempDir();
    const { remember } = await import('../../ops/faults/in-force.ts');
    remember(dir, record('partition', ['n1', 'n2'], 'netns', 'cut', { kind: 'heal', target: ['n1', 'n2'] }));
    remember(dir, record('isolate', ['n3'], 'netns', 'cut', { kind: 'heal', target: ['n3'] }));
    remember(dir, record('pause-broker', ['n1'], 'netns', 'SIGSTOP', { kind: 'resume-broker', target: ['n1'] }));
    remember(dir, record('heal', ['n2'], 'netns', 'uncut'));
    expect(faultsInForce(dir).faults.map((f) => f.kind)).toEqual(['isolate', 'pause-broker']);
    remember(dir, record('heal', [], 'netns', 'all'));
    expect(faultsInForce(dir).faults.map((f) => f.kind)).toEqual(['pause-broker']);
  });

  it('a corrupt file is an error that names it', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'faults-in-force.json'), '{not json');
    expect(() => faultsInForce(dir)).toThrow(/faults-in-force.json is corrupt/);
  });
});
