import { existsSync, readFileSync } from 'node:fs';
import type { ScenarioSummary } from '../../ops/scenario/summary.ts';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scenario } from './scenario-helpers.ts';

describe('scenarios: mesh, trace and spy end to end', () => {
  it('mesh-ring with 3 nodes: the token makes every hop once, in order', async () => {
    const r = await scenario('mesh-ring', 3);
    expect(r.summary).toContain('PASS  ring: 9 hops over 3 members');
    expect(r.pass, r.summary).toBe(true);
    expect(existsSync(join(r.logDir, 'distributed.log'))).toBe(true);
    // summary.json: the same run for machines
    const s = JSON.parse(readFileSync(join(r.logDir, 'summary.json'), 'utf8')) as ScenarioSummary;
    expect(s).toMatchObject({ name: 'mesh-ring', pass: true, backend: 'local', nodes: 3 });
    expect(s.seconds).toBeCloseTo(r.seconds, 1);
    expect(s.checks.map((c) => c.name)).toEqual(r.checks.map((c) => c.name));
    expect(s.metrics.instances).toHaveLength(3);
    const sent = s.metrics.instances.reduce((n, i) => n + (i.mesh?.sent ?? 0), 0);
    const delivered = s.metrics.instances.reduce((n, i) => n + (i.mesh?.delivered ?? 0), 0);
    expect(sent).toBeGreaterThanOrEqual(9); // 3 laps of 3 hops
    expect(delivered).toBe(sent); // nothing lost, nothing dropped
    expect(s.metrics.instances.every((i) => i.mesh?.dropped === 0 && i.exitCode === 0)).toBe(true);
  });

  it('trace with 3 nodes: every state change shows in every output, blue locally and purple elsewhere', async () => {
    const r = await scenario('trace', 3);
    expect(r.pass, r.summary).toBe(true);
    expect(r.summary).toMatch(/^trace\d-\w+ +127\.0\.0\.1\d +0 +0 +3 /m);
  });

  it('spy with 3 nodes: spy lines only from the first, and distributed.log reproduces its local spy log', async () => {
    const r = await scenario('spy', 3);
    expect(r.pass, r.summary).toBe(true);
    expect(r.summary).toMatch(/PASS  spy: grep -F '\[\+s\]' distributed.log \| grep spy0-\w+ reproduces its local spy log \(\d+ lines\)/);
  });
});
