// A user's own scenario, as docs/scenarios.md shows it: echo.mjs (a chart program on runInstance) and
// ping.mjs (a zx scenario script with a fault and a check), taken from the README's code
// blocks (docs/scenarios.md), written to a temp dir outside the repository that has the package installed
// (node_modules/miros-rabbitmq and zx linked in, as npm would), and run with node against the
// shared cluster. Its summary.json must say what the script checked.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runScript } from './scenario-helpers.ts';

const repo = resolve(import.meta.dirname, '../..');
const work = mkdtempSync(join(tmpdir(), 'miros-user-scenario-'));

/** The ```js block of docs/scenarios.md with a comment line `// <file>: …`. */
function readmeBlock(file: string): string {
  const readme = readFileSync(join(repo, 'docs', 'scenarios.md'), 'utf8');
  const block = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]).find((b) => b.split('\n').some((l) => l.startsWith(`// ${file}:`)));
  if (!block) throw new Error(`docs/scenarios.md has no js block starting with "// ${file}:"`);
  return block;
}

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('a user-written zx scenario script outside scenarios/', () => {
  it("the documented ping.mjs with its own chart program: a PING across a paused broker, summary.json as checked", { timeout: 180_000 }, async () => {
    mkdirSync(join(work, 'node_modules', '.bin'), { recursive: true });
    symlinkSync(repo, join(work, 'node_modules', 'miros-rabbitmq'));
    symlinkSync(join(repo, 'node_modules', 'zx'), join(work, 'node_modules', 'zx'));
    symlinkSync(join(repo, 'bin', 'mirosnet.mjs'), join(work, 'node_modules', '.bin', 'mirosnet'));
    writeFileSync(join(work, 'package.json'), JSON.stringify({ name: 'my-scenarios', private: true, type: 'module' }));
    writeFileSync(join(work, 'echo.mjs'), readmeBlock('echo.mjs'));
    writeFileSync(join(work, 'ping.mjs'), readmeBlock('ping.mjs'));

    const r = await runScript(join(work, 'ping.mjs'), ['--nodes', '2'], { cwd: work });
    expect(r.status, r.output).toBe(0);
    expect(r.logDir.startsWith(join(work, 'logs', 'ping-')), r.logDir).toBe(true); // logs/ in the user's directory
    const s = r.json!;
    expect(s).toMatchObject({ name: 'ping', pass: true, backend: 'local', nodes: 2, metrics: { pongs: 2 } });
    expect(s.seconds).toBeGreaterThan(0);
    expect(s.checks.map((c) => [c.name, c.pass])).toEqual([
      ['no PONG while the broker was paused', true],
      ['every PING got one PONG', true],
      [expect.stringMatching(/^log check: evidence complete/), true],
    ]);
    expect(s.checks.every((c) => typeof c.detail === 'string')).toBe(true);
    const echo = s.metrics.instances.find((i) => i.name.startsWith('echo-'))!;
    expect(echo).toMatchObject({ exitCode: 0, mesh: { delivered: 2, dropped: 0 } }); // the user's program ran, got both PINGs
    expect(r.output).toMatch(/\d+\/\d+ healthy · backend local/); // the $ step: mirosnet cluster status
  });
});
