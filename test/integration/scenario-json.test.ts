// `mirosnet scenario NAME --json`: the run's summary (summary.json, as written) is the only
// thing on stdout; the progress and the summary table go to stderr. On the shared cluster.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const repo = resolve(import.meta.dirname, '../..');
const logs = mkdtempSync(join(tmpdir(), 'miros-scenario-json-'));
afterAll(() => rmSync(logs, { recursive: true, force: true }));

describe('mirosnet scenario --json', () => {
  it('prints summary.json alone on stdout, progress on stderr', { timeout: 120_000 }, async () => {
    const child = spawn(process.execPath, [join(repo, 'bin/mirosnet.mjs'), 'scenario', 'mesh-ring', '--nodes', '2', '--laps', '1', '--logs', logs, '--json'], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const status = await new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    expect(status, stderr).toBe(0);
    const summary = JSON.parse(stdout) as { name: string; pass: boolean };
    expect(summary).toMatchObject({ name: 'mesh-ring', pass: true });
    const logDir = /^\[mesh-ring\] logs: (.+)$/m.exec(stderr)?.[1];
    expect(logDir, stderr).toBeDefined();
    expect(stdout).toBe(readFileSync(join(logDir!, 'summary.json'), 'utf8'));
    expect(stderr).toMatch(/^\[mesh-ring\] scenario mesh-ring: PASSED/m);
  });
});
