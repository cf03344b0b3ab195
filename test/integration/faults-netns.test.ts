// Network faults on real hosts (netns backend, root): an isolated cluster of 3 namespaces
// (hosts fn1..fn3 in namespaces mrf-1..3 on 10.77.101.0/24, a temp dir). partition/heal/isolate put nft drop rules
// inside the namespaces; the probes are TCP connects to the brokers' AMQP port, made
// from inside a namespace. As a non-root user the suite is skipped (NEEDS ROOT).
import { execFileSync, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { down, up } from '../../ops/cluster/index.ts';
import { cutsIn, heal, isolate, partition } from '../../ops/faults/index.ts';
import { isolatedOptions } from './cluster-helpers.ts';

const NS = 'mrf';
const SUBNET = '10.77.101';
const opts = isolatedOptions({ backend: 'netns', nodes: 3, nsPrefix: NS, namePrefix: 'fn', addressBase: `${SUBNET}.11` });
const dir = opts.dir!;
const host = (i: number) => `${SUBNET}.${10 + i}`;
const ns = (i: number) => `${NS}-${i}`;

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** TCP connect from inside namespace `from` to host `to`'s AMQP port: 'open' or the error code. */
function reach(from: number, to: number, timeoutMs = 1500): string {
  const js = `const s=require('net').connect(5672,'${host(to)}');const t=setTimeout(()=>{console.log('ETIMEDOUT');process.exit(0)},${timeoutMs});` +
    `s.on('connect',()=>{console.log('open');s.destroy();clearTimeout(t)});s.on('error',e=>{console.log(e.code);clearTimeout(t)})`;
  return execFileSync('ip', ['netns', 'exec', ns(from), process.execPath, '-e', js], { encoding: 'utf8' }).trim();
}

/** Every ordered pair's reachability, as 'a>b' keys. */
function matrix(): Record<string, string> {
  const m: Record<string, string> = {};
  for (const a of [1, 2, 3]) for (const b of [1, 2, 3]) if (a !== b) m[`${a}>${b}`] = reach(a, b);
  return m;
}

const all = (v: string, keys: string[]) => Object.fromEntries(keys.map((k) => [k, v]));
const PAIRS = ['1>2', '1>3', '2>1', '2>3', '3>1', '3>2'];

const isRoot = process.getuid?.() === 0;

describe.skipIf(!isRoot)(`faults: netns backend${isRoot ? '' : ' (NEEDS ROOT: not run)'}`, { timeout: 120_000 }, () => {
  beforeAll(async () => {
    const probe = spawnSync('nft', ['--version'], { encoding: 'utf8' });
    if (probe.error || probe.status !== 0) throw new Error(`NETNS FAULT TESTS CANNOT RUN: nft is missing (apt-get install nftables): ${probe.error?.message ?? probe.stderr}`);
    await up(opts);
  }, 240_000);

  afterAll(async () => {
    await down({ dir, log: () => {} });
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it('every host reaches every broker at first', () => {
    expect(matrix()).toEqual(all('open', PAIRS));
  });

  it('partition(fn1, fn2) cuts that pair only; heal(fn1, fn2) restores it', async () => {
    const rec = await partition('fn1', 'fn2', { dir });
    expect(rec).toMatchObject({ kind: 'partition', target: ['fn1', 'fn2'], backend: 'netns', undo: { kind: 'heal', target: ['fn1', 'fn2'] } });
    expect(await cutsIn(ns(1))).toEqual([host(2)]);
    expect(await cutsIn(ns(3))).toEqual([]);
    expect(matrix()).toEqual({ ...all('open', PAIRS), '1>2': 'ETIMEDOUT', '2>1': 'ETIMEDOUT' });

    expect(await heal('fn1', 'fn2', { dir })).toMatchObject({ kind: 'heal', target: ['fn1', 'fn2'] });
    expect(matrix()).toEqual(all('open', PAIRS));
  });

  it('isolate(fn3) cuts fn3 from both others and from this machine; heal() removes every cut', async () => {
    expect(await isolate('fn3', { dir })).toMatchObject({ kind: 'isolate', target: ['fn3'], undo: { kind: 'heal', target: ['fn3'] } });
    expect(matrix()).toEqual({ ...all('ETIMEDOUT', PAIRS), '1>2': 'open', '2>1': 'open' });
    const fromMachine = spawnSync(process.execPath, ['-e', `const s=require('net').connect(5672,'${host(3)}');s.setTimeout(1500,()=>{console.log('ETIMEDOUT');process.exit(0)});s.on('connect',()=>{console.log('open');process.exit(0)})`], { encoding: 'utf8' });
    expect(fromMachine.stdout.trim()).toBe('ETIMEDOUT');

    expect(await heal(undefined, undefined, { dir })).toMatchObject({ kind: 'heal', target: [] });
    for (const i of [1, 2, 3]) expect(await cutsIn(ns(i))).toEqual([]);
    expect(matrix()).toEqual(all('open', PAIRS));
  });

  it('`mirosnet fault partition` / `fault heal` print their record (--json: as JSON); `fault heal --all` undoes what `fault list` shows; a bad node fails with exit 1', () => {
    const cli = (...args: string[]) => spawnSync(process.execPath, ['--import', TSX, join(ROOT, 'ops/cli.ts'), 'fault', ...args, '--dir', dir], { encoding: 'utf8', timeout: 30_000 });
    const cut = cli('partition', 'fn2', 'fn3', '--json');
    expect({ status: cut.status, stderr: cut.stderr }).toEqual({ status: 0, stderr: '' });
    expect(JSON.parse(cut.stdout)).toMatchObject({ kind: 'partition', target: ['fn2', 'fn3'] });
    expect(reach(2, 3)).toBe('ETIMEDOUT');
    const healed = cli('heal');
    expect({ status: healed.status, stderr: healed.stderr }).toEqual({ status: 0, stderr: '' });
    expect(healed.stdout).toMatch(/^heal: /);
    expect(reach(2, 3)).toBe('open');
    expect(cli('isolate', 'fn3').status).toBe(0);
    expect(cli('list').stdout).toMatch(/ isolate fn3: .*\(undo: mirosnet fault heal fn3\)\n$/);
    expect(reach(2, 3)).toBe('ETIMEDOUT');
    const all = cli('heal', '--all', '--json');
    expect(all.status).toBe(0);
    expect((JSON.parse(all.stdout) as { healed: Array<{ kind: string }> }).healed.map((r) => r.kind)).toEqual(['heal']);
    expect(cli('list').stderr).toBe('mirosnet: no fault in force\n');
    expect(reach(2, 3)).toBe('open');
    expect(cli('isolate', 'fn9')).toMatchObject({ status: 1, stderr: expect.stringMatching(/no node 'fn9'/) });
  });
});
