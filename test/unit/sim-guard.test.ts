// Determinism enforced (issue 24, item 5): inside a simulated run the real timers, clocks,
// randomness, sockets and file writes throw a DeterminismError naming the call; the guard is
// restored after the run, a failed one too.
import * as crypto from 'node:crypto';
import { randomBytes as importedRandomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { relayProgram } from '../../examples/relay/program.ts';
import { DeterminismError, guardInstalled, installGuard } from '../../runtime/sim/guard.ts';
import { simulate } from '../../runtime/sim/simulate.ts';

let restore: (() => void) | undefined;
afterEach(() => {
  restore?.();
  restore = undefined;
});

const dir = mkdtempSync(join(tmpdir(), 'sim-guard-'));
const outside = join(dir, 'outside.txt');

/** Each real source of time, randomness or effect, and the name its error must carry. */
const CALLS: Array<[string, () => unknown]> = [
  ['setTimeout()', () => setTimeout(() => undefined, 1)],
  ['setInterval()', () => setInterval(() => undefined, 1)],
  ['setImmediate()', () => setImmediate(() => undefined)],
  ['Date.now()', () => Date.now()],
  ['new Date()', () => new Date()],
  ['Date()', () => (Date as unknown as () => string)()],
  ['performance.now()', () => performance.now()],
  ['process.hrtime()', () => process.hrtime()],
  ['process.hrtime.bigint()', () => process.hrtime.bigint()],
  ['Math.random()', () => Math.random()],
  ['crypto.randomBytes()', () => crypto.randomBytes(4)],
  ['crypto.randomBytes()', () => importedRandomBytes(4)], // a named import of the builtin too
  ['crypto.randomFillSync()', () => crypto.randomFillSync(Buffer.alloc(4))],
  ['crypto.randomUUID()', () => crypto.randomUUID()],
  ['crypto.randomUUID()', () => globalThis.crypto.randomUUID()],
  ['crypto.getRandomValues()', () => globalThis.crypto.getRandomValues(new Uint8Array(4))],
  ['net.connect()', () => net.connect(5672, '127.0.0.1')],
  ['net.createConnection()', () => net.createConnection(5672, '127.0.0.1')],
  ['net.Socket.connect()', () => new net.Socket().connect(5672, '127.0.0.1')],
  [`fs.writeFileSync(${JSON.stringify(outside)})`, () => writeFileSync(outside, 'x')],
  [`fs.appendFileSync(${JSON.stringify(outside)})`, () => fs.appendFileSync(outside, 'x')],
  [`fs.openSync(${JSON.stringify(outside)}, "a")`, () => fs.openSync(outside, 'a')],
  [`fs.createWriteStream(${JSON.stringify(outside)})`, () => fs.createWriteStream(outside)],
  ['fs.writeSync(fd 1)', () => fs.writeSync(1, 'x')],
  ['fs.promises.writeFile()', () => fs.promises.writeFile(outside, 'x')],
];

describe('the determinism guard', () => {
  it.each(CALLS.map(([name, call], i) => [`${i}: ${name}`, name, call] as const))('%s throws inside a run, naming the call', (_label, name, call) => {
    restore = installGuard();
    let thrown: unknown;
    try {
      call();
    } catch (err) {
      thrown = err;
    }
    restore();
    restore = undefined;
    expect(thrown).toBeInstanceOf(DeterminismError);
    expect((thrown as DeterminismError).call).toBe(name);
    expect((thrown as Error).message).toContain(`${name} was called inside a simulated run`);
  });

  it('conversions stay allowed: new Date(ms), Date.UTC, instanceof Date, reads of files', () => {
    restore = installGuard();
    expect(new Date(0).toISOString()).toBe('1970-01-01T00:00:00.000Z');
    expect(Date.UTC(2026, 0, 1)).toBe(1767225600000);
    expect(new Date(5) instanceof Date).toBe(true);
    expect(readFileSync(new URL(import.meta.url), 'utf8')).toContain('the determinism guard');
  });

  it('lets writes below the run\'s evidence dir through, and nothing else', () => {
    const out = join(dir, 'out');
    restore = installGuard({ allowWritesUnder: out });
    fs.mkdirSync(out, { recursive: true });
    const fd = fs.openSync(join(out, 'a.jsonl'), 'a');
    fs.writeSync(fd, 'line\n');
    fs.closeSync(fd);
    expect(() => fs.writeSync(fd, 'again\n')).toThrow(DeterminismError); // closed: no longer the run's
    expect(() => writeFileSync(join(dir, 'out-not.txt'), 'x')).toThrow(DeterminismError); // a sibling with the same prefix
    restore();
    restore = undefined;
    expect(readFileSync(join(out, 'a.jsonl'), 'utf8')).toBe('line\n');
  });

  it('restores every one after: the real ones work again', () => {
    installGuard()();
    expect(guardInstalled()).toBe(false);
    expect(typeof Date.now()).toBe('number');
    expect(new Date().getTime()).toBeGreaterThan(0);
    expect(Math.random()).toBeLessThan(1);
    expect(performance.now()).toBeGreaterThan(0);
    expect(crypto.randomBytes(2)).toHaveLength(2);
    expect(importedRandomBytes(2)).toHaveLength(2);
    clearTimeout(setTimeout(() => undefined, 1));
    writeFileSync(outside, 'x');
    expect(Object.getOwnPropertyDescriptor(Math, 'random')!.enumerable).toBe(false);
    rmSync(dir, { recursive: true, force: true });
  });

  it('one run at a time per thread: a second install is refused', () => {
    restore = installGuard();
    expect(() => installGuard()).toThrow(/already under way/);
  });

  it('a program that reads the real clock fails its run with the error naming it, and the guard is restored', async () => {
    const cheat = { ...relayProgram({ pings: 2 }), workload: () => void Date.now() };
    await expect(simulate(cheat, { seed: 1 })).rejects.toThrow(/Date\.now\(\) was called inside a simulated run/);
    expect(guardInstalled()).toBe(false);
    expect(typeof Date.now()).toBe('number');
  });
});

describe('a refused call inside a chart', () => {
  it('ends the run with the error naming it, even though the engine caught it in the handler', async () => {
    const program = relayProgram({ pings: 2 });
    const ponger = program.charts[1]!;
    const answering = ponger.initial;
    ponger.initial = (ctx) => {
      const state = answering(ctx);
      return function cheating(chart, e) {
        if (e.signalName === 'PING') Math.random();
        return state(chart, e);
      };
    };
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined); // the engine's report of the handler's exception
    try {
      await expect(simulate(program, { seed: 1 })).rejects.toThrow(/^Math\.random\(\) was called inside a simulated run/);
    } finally {
      errors.mockRestore();
    }
    expect(guardInstalled()).toBe(false);
  });
});
