// An instance program's control lines reach the runner even when it is SIGKILLed right after
// writing them. Chaos counts an event received by the @@RCV line its chart wrote while handling
// it; the event is acked right after, so the broker never redelivers it. A line still in the
// process's memory at the kill (Node queues pipe writes the reader has not taken yet) would be
// an arrival the ledger never hears of: counted lost although the chart handled it.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');

/** Runs the child; its stdout is read only after `lagMs` (a runner busy elsewhere); resolves with the lines it got. */
function linesOfKilledChild(n: number, lagMs: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    // node itself (tsx as its loader, not the tsx wrapper): the kill must end the process we read
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'test/unit/fixtures/control-then-sigkill.ts'), String(n)], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.pause();
    setTimeout(() => {
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stdout.resume();
    }, lagMs);
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (_code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`the child ended by ${signal ?? 'exit'}: ${err}`));
      else resolve(out.split('\n').filter((l) => l.startsWith('@@RCV')));
    });
  });
}

describe('instance control lines', () => {
  it('every line written before a SIGKILL reaches a reader that lags (more than a pipe buffer of them)', async () => {
    const n = 20_000; // about 1.3 MB: twenty pipe buffers
    const lines = await linesOfKilledChild(n, 1000);
    expect(lines).toHaveLength(n);
    expect(lines.at(-1)).toContain(`"s":${n}`);
  }, 60_000);
});
