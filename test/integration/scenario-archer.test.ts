import { describe, expect, it } from 'vitest';
import { scenario } from './scenario-helpers.ts';

describe('scenarios: horse archers', () => {
  it('horse-archer with 3 nodes: the archers learn of each other, retreat, and re-advance as one unit', async () => {
    const r = await scenario('horse-archer', 3);
    expect(r.pass, r.summary).toBe(true);
    expect(r.summary).toMatch(/PASS  the unit re-advanced together/);
  });
});
