import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scenario } from './scenario-helpers.ts';

describe('scenarios: scribbles and keys', () => {
  it('scribble with 3 nodes: every snoopScribble reaches the monitor in the scribble format', async () => {
    const r = await scenario('scribble', 3);
    expect(r.pass, r.summary).toBe(true);
  });

  it('wrong-key with 3 nodes: the odd one is isolated, the others report it and keep working', async () => {
    const r = await scenario('wrong-key', 3);
    expect(r.pass, r.summary).toBe(true);
    expect(r.summary).toMatch(/^key0-\w+ +127\.0\.0\.11 +3 +3 +0 +0 +3 +0$/m); // 3 PINGs of key1 in, 3 of odd2 dropped
  });

  it('key-rotation with 3 nodes: the mesh key is rotated in two steps under traffic; every PING arrives once', async () => {
    const r = await scenario('key-rotation', 3);
    expect(r.pass, r.summary).toBe(true);
    expect(r.checks.map((c) => c.name)).toContain('step 2: every instance encrypts with new, still decrypts old');
    // like every scenario: the log check is one of its checks, and summary.json says the same
    expect(r.checks.find((c) => c.name.startsWith('log check:'))?.pass, r.summary).toBe(true);
    const s = JSON.parse(readFileSync(join(r.logDir, 'summary.json'), 'utf8')) as { name: string; pass: boolean; checks: { name: string }[] };
    expect(s).toMatchObject({ name: 'key-rotation', pass: true });
    expect(s.checks.length).toBe(r.checks.length);
  });
});
