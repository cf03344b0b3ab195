import { describe, expect, it } from 'vitest';
import { scenario } from './scenario-helpers.ts';

// These grow the shared cluster (to 4, then 6 nodes) and restart one of its brokers;
// the other integration tests use nodes 1-3 only and survive a restart of node 2.
describe('scenarios: late joiners, broker restarts, bigger rings', () => {
  it('late-joiner with 3 nodes: a 4th broker and instance start later and join without restarts', { timeout: 180_000 }, async () => {
    const r = await scenario('late-joiner', 3);
    expect(r.pass, r.summary).toBe(true);
    expect(r.summary).toMatch(/PASS  late3-\w+ knew all 4 brokers/);
  });

  it('broker-restart with 3 nodes: the ring loses no token while a broker restarts', { timeout: 180_000 }, async () => {
    const r = await scenario('broker-restart', 3);
    expect(r.pass, r.summary).toBe(true);
    expect(r.summary).toContain('PASS  ring: 9 hops over 3 members, each once, in order');
  });

  it('mesh-ring with 6 nodes (the cluster grows to 6)', { timeout: 240_000 }, async () => {
    const r = await scenario('mesh-ring', 6);
    expect(r.pass, r.summary).toBe(true);
    expect(r.summary).toContain('PASS  ring: 18 hops over 6 members, each once, in order');
  });
});
