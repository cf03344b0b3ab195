// The bounds on bookkeeping that input grows (bounded.ts): oldest out first, every one counted.
import { describe, expect, it } from 'vitest';
import { BoundedMap, BoundedSet } from '../../runtime/net/bounded.ts';

describe('BoundedMap / BoundedSet', () => {
  it('keep at most the limit, shed the least recently set, and count what they shed', () => {
    const map = new BoundedMap<string, number>(3);
    for (const [i, k] of ['a', 'b', 'c'].entries()) map.set(k, i);
    map.set('a', 10); // set again: now the newest
    map.set('d', 3);
    expect([...map.keys()]).toEqual(['c', 'a', 'd']);
    expect(map.shed).toBe(1);
    expect(map.get('b')).toBeUndefined();
    const set = new BoundedSet<number>(100);
    for (let i = 0; i < 1000; i++) set.add(i);
    expect(set.size).toBe(100);
    expect(set.shed).toBe(900);
    expect(set.has(999) && !set.has(0)).toBe(true);
  });

  it('refuses a bound that is not a positive integer', () => {
    expect(() => new BoundedMap(0)).toThrow(/positive integer/);
  });
});
