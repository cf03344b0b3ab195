// One seed, one hash (issue 24, item 5): the relay's hash for a seed is the same in this
// process, in two fresh processes, and in one or two worker threads running at once.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { program as relay } from '../../examples/relay/program.ts';
import { simulate } from '../../runtime/sim/simulate.ts';

const FIXTURE = join(import.meta.dirname, 'fixtures/sim-hash.mjs');
const SEEDS = [11, 12];

function freshProcess(): Promise<{ node: string; hashes: string[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [FIXTURE, ...SEEDS.map(String)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`sim-hash.mjs exited ${code}: ${err}`))));
  });
}

function inWorker(seeds: number[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(FIXTURE, { workerData: { seeds } });
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => code !== 0 && reject(new Error(`worker exited ${code}`)));
  });
}

describe('one seed, one hash', () => {
  it('in this process, in two fresh processes, in one worker thread and in two at once', async () => {
    const here: string[] = [];
    for (const seed of SEEDS) here.push((await simulate(relay, { seed })).hash);
    expect(new Set(here).size).toBe(SEEDS.length); // two seeds, two runs

    const [first, second] = [await freshProcess(), await freshProcess()];
    expect(first).toEqual({ node: process.version, hashes: here });
    expect(second).toEqual({ node: process.version, hashes: here });

    expect(await inWorker(SEEDS)).toEqual(here);
    const [a, b] = await Promise.all([inWorker(SEEDS), inWorker([...SEEDS].reverse())]);
    expect(a).toEqual(here);
    expect(b).toEqual([...here].reverse());
  });
});
