// Seeded randomness for the simulation: one independent stream per name ('network', 'faults',
// 'workload', 'proc:<name>'), so that one more draw in one place does not reshuffle the others.
// A stream's seed is the world's seed mixed with a hash of its name (FNV-1a, then splitmix32);
// the generator is sfc32 (128-bit state, fast, passes PractRand to 2^40 or so: plenty here).

/** A seeded stream of random numbers. */
export interface SimRandom {
  /** A number in [0, 1). */
  next(): number;
  /** An integer in [0, n) (n ≥ 1). */
  int(n: number): number;
  /** `n` random bytes. */
  bytes(n: number): Buffer;
}

function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** The stream `name` of the world seeded with `seed` (an integer; only its low 32 bits count). */
export function seededStream(seed: number, name: string): SimRandom {
  if (!Number.isSafeInteger(seed)) throw new TypeError(`sim: a seed is an integer, got ${seed}`);
  const init = { s: (fnv1a(name) ^ (seed >>> 0) ^ Math.floor(seed / 2 ** 32)) | 0 };
  let a = splitmix32(init);
  let b = splitmix32(init);
  let c = splitmix32(init);
  let d = splitmix32(init) | 1;
  const u32 = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  for (let i = 0; i < 12; i++) u32(); // warm up: the first outputs of sfc32 are weakly mixed
  const next = () => u32() / 4294967296;
  return {
    next,
    int(n: number): number {
      if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`sim: int(n) needs an integer n ≥ 1, got ${n}`);
      return Math.floor(next() * n);
    },
    bytes(n: number): Buffer {
      const out = Buffer.alloc(n);
      for (let i = 0; i < n; i += 4) {
        const v = u32();
        for (let k = 0; k < 4 && i + k < n; k++) out[i + k] = (v >>> (8 * k)) & 0xff;
      }
      return out;
    },
  };
}
