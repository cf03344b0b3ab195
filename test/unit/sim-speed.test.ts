// What the simulator does to be fast must not change what a run is: the hand-written canonical
// JSON gives the text of its definition (JSON.stringify with a key-sorting replacer), and the
// world's step loop (runSteps) runs the same events with the same checks as run() in steps.
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../runtime/sim/canonical.ts';
import { cloneValue } from '../../runtime/sim/clone.ts';
import { simulate } from '../../runtime/sim/simulate.ts';
import { SimWorld } from '../../runtime/sim/world.ts';
import { relayProgram } from '../../examples/relay/program.ts';

/** The definition the run hashes were first made with. */
function reference(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

describe('canonicalJson: the text of its definition', () => {
  const cases: Array<[string, unknown]> = [
    ['scalars', [1, -0, 0.1, 1e21, 5e-7, NaN, Infinity, -Infinity, true, false, null, 'a"\\\n\u2028\ud800x', '']],
    ['left out in objects, null in arrays', { a: undefined, b: () => 1, c: Symbol('s'), d: [undefined, () => 1, Symbol('t')] }],
    ['keys sorted by code unit', { b: 1, a: 2, B: 3, é: 4, aa: 5, '': 6, 'a b': 7, '\ud83d\ude00': 8, z: { y: 1, x: [{ q: 1, p: 2 }] } }],
    ['array-index keys first, numerically', { b: 1, 10: 2, 2: 3, '02': 4, a: 5, 4294967294: 6, 4294967295: 7, '-1': 8, '1.5': 9 }],
    ['toJSON with its key, then sorted', { buf: Buffer.from([1, 2, 3]), date: new Date(0), custom: { toJSON: (k: string) => ({ z: k, a: 1 }) }, list: [{ toJSON: (k: string) => k }] }],
    ['maps, sets, typed arrays, boxed values', { m: new Map([[1, 2]]), s: new Set([1]), u: new Uint8Array([5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]), n: Object(3), t: Object('ab') }],
    ['nested and empty', { a: {}, b: [], c: [[[]]], d: { e: { f: { g: null } } } }],
  ];
  for (const [what, value] of cases) {
    it(what, () => {
      expect(canonicalJson(value)).toBe(reference(value));
    });
  }

  it('a BigInt throws, as JSON.stringify does', () => {
    expect(() => reference({ a: 1n })).toThrow(TypeError);
    expect(() => canonicalJson({ a: 1n })).toThrow(TypeError);
  });

  it("a faulted run's records, reports and fault records", async () => {
    const r = await simulate(relayProgram({ pings: 5 }), { seed: 3, faults: { kinds: 'all', count: 6, spanMs: 3000 } });
    const value = { records: r.records, reports: r.reports, faults: r.faults?.records, stats: r.stats };
    expect(r.records.length).toBeGreaterThan(0);
    expect(canonicalJson(value)).toBe(reference(value));
  });
});

describe('SimWorld.runSteps: run() in steps, event for event', () => {
  /** A world with timers at uneven times whose callbacks start promise jobs that schedule more. */
  function busy(seed: number, log: string[]): SimWorld {
    const w = new SimWorld(seed);
    const r = w.stream('t');
    for (let i = 0; i < 40; i++) {
      w.schedule(r.int(200), () => {
        log.push(`e${i}@${w.elapsedMs}`);
        void Promise.resolve().then(() => {
          log.push(`j${i}@${w.elapsedMs}`);
          if (i % 3 === 0) w.schedule(r.int(20), () => log.push(`f${i}@${w.elapsedMs}`));
        });
      });
    }
    return w;
  }

  it('the same events at the same times, and the stop checks at the same step ends', async () => {
    const a: string[] = [];
    const wa = busy(5, a);
    const checksA: number[] = [];
    while (!(checksA.push(wa.elapsedMs) && wa.elapsedMs >= 230)) await wa.run({ untilMs: wa.elapsedMs + 5 });
    const b: string[] = [];
    const wb = busy(5, b);
    const checksB: number[] = [];
    await wb.runSteps(5, () => !!checksB.push(wb.elapsedMs) && wb.elapsedMs >= 230);
    expect(b).toEqual(a);
    expect(a.length).toBeGreaterThan(80);
    expect(checksB).toEqual(checksA);
    expect(wb.elapsedMs).toBe(wa.elapsedMs);
  });

  it('a stop that throws rejects the run with its error', async () => {
    const w = new SimWorld(1);
    await expect(
      w.runSteps(5, () => {
        if (w.elapsedMs >= 50) throw new Error('limit');
        return false;
      }),
    ).rejects.toThrow('limit');
    expect(w.elapsedMs).toBe(50);
  });
});

describe('cloneValue: structuredClone of options and headers', () => {
  it('a plain object of primitives and plain objects: an equal copy, nothing shared', () => {
    const o = { persistent: true, contentType: 'application/octet-stream', priority: 0, expiration: undefined, n: null, big: 2n, neg: -0, headers: { 'x-sender': 'a', 2: 'two', 1: 1, deep: { x: 'y' } } };
    const c = cloneValue(o);
    expect(c).toStrictEqual(structuredClone(o));
    expect(Object.keys(c.headers)).toEqual(Object.keys(structuredClone(o).headers));
    expect(Object.is(c.neg, -0)).toBe(true);
    expect(c).not.toBe(o);
    expect(c.headers).not.toBe(o.headers);
    o.headers.deep.x = 'changed';
    expect(c.headers.deep.x).toBe('y');
  });

  it('anything else as structuredClone gives it: dates, buffers, arrays, class instances, cycles; a function throws', () => {
    class Opt {
      a = 1;
    }
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    for (const v of [{ at: new Date(5) }, { body: Buffer.from('ab') }, { list: [1, { a: 2 }] }, new Opt(), cyclic, [1, 2]]) {
      expect(cloneValue(v)).toStrictEqual(structuredClone(v));
    }
    const c = cloneValue(cyclic);
    expect(c.self).toBe(c);
    expect(() => cloneValue({ f: () => 1 })).toThrow();
    expect(() => structuredClone({ f: () => 1 })).toThrow();
  });
});

describe("a simulated process's network interfaces", () => {
  it('loopback only, whatever the machine has; a chart reads them from its environment, and only for learnHostsFrom "interfaces"', async () => {
    const { HostAllowlist } = await import('../../runtime/net/host-allowlist.ts');
    const env = new SimWorld(1).process('p').environment;
    expect(env.networkInterfaces?.()).toEqual({ lo: [expect.objectContaining({ family: 'IPv4', cidr: '127.0.0.1/8', internal: true })] });
    let reads = 0;
    const lister = () => (reads++, env.networkInterfaces!());
    expect(new HostAllowlist(['10.0.0.0/8'], lister).allows('10.0.0.1')).toBe(true);
    expect(reads).toBe(0);
    const list = new HostAllowlist(['interfaces'], lister);
    expect(reads).toBe(1);
    expect(list.allows('127.0.0.5')).toBe(true);
    expect(list.allows('10.0.0.1')).toBe(false);
  });
});
