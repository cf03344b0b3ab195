import { describe, expect, it } from 'vitest';
import { WarningLimiter } from '../../runtime/net/warning-limiter.ts';

describe('WarningLimiter', () => {
  it('writes the first of a kind, holds back the next ones for the interval, then says how many it held', () => {
    let t = 0;
    const out: string[] = [];
    const w = new WarningLimiter((m) => out.push(m), 30_000, 10, () => t);
    expect(w.warn('overflow b1', 'outbox full')).toBe(true);
    for (let i = 0; i < 999; i++) w.warn('overflow b1', 'outbox full');
    w.warn('overflow b2', 'other full'); // another kind is not held back
    t = 30_000;
    w.warn('overflow b1', 'outbox full');
    expect(out).toEqual(['outbox full', 'other full', 'outbox full (999 more like it in the last 30 s)']);
    expect(w.stats).toEqual({ suppressed: 999, shedKeys: 0 });
  });

  it('first(): once per key for ever; both maps are bounded and count what they shed', () => {
    const out: string[] = [];
    const w = new WarningLimiter((m) => out.push(m), 30_000, 2, () => 0);
    w.first('a', 'A');
    w.first('a', 'A');
    w.first('b', 'B');
    w.first('c', 'C'); // forgets 'a'
    w.warn('x', 'X');
    w.warn('y', 'Y');
    w.warn('z', 'Z'); // forgets 'x'
    expect(out).toEqual(['A', 'B', 'C', 'X', 'Y', 'Z']);
    expect(w.stats).toEqual({ suppressed: 1, shedKeys: 2 });
  });
});
