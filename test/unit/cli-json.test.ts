// `mirosnet` without a cluster: --json on the commands that report state (data on stdout,
// diagnostics on stderr), exit 2 for bad values, `fault heal --all` (ops/faults/in-force.ts
// healAll, with a catalogue of fakes). Runs ops/cli.ts through tsx in a child process.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { faultsInForce, healAll, injectFault } from '../../ops/faults/in-force.ts';
import type { Catalogue, FaultSpec } from '../../ops/faults/catalogue.ts';
import { record, type FaultRecord } from '../../ops/faults/record.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(ROOT, 'ops/cli.ts');
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

const temps: string[] = [];
function tempDir(): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'mirosnet-json-')));
  temps.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

function mirosnet(args: string[], cwd = ROOT) {
  const env = { ...process.env };
  for (const name of ['MIROS_CLUSTER_DIR', 'RABBIT_USER', 'RABBIT_PASSWORD', 'MESH_ENCRYPTION_KEY', 'SNOOP_TRACE_ENCRYPTION_KEY', 'SNOOP_SPY_ENCRYPTION_KEY']) delete env[name];
  const r = spawnSync(process.execPath, ['--import', TSX, CLI, ...args], { cwd, env, encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const inForce = (dir: string, faults: FaultRecord[]) => writeFileSync(join(dir, 'faults-in-force.json'), JSON.stringify({ faults, shed: 0 }));
const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();

describe('mirosnet --json and exit statuses', { timeout: 60_000 }, () => {
  it('exits 2 for a bad value: --nodes 0, a run that is not there, a malformed snoop key', () => {
    const nodes = mirosnet(['cluster', 'up', '--nodes', '0', '--dir', tempDir()]);
    expect(nodes.status).toBe(2);
    expect(nodes.stderr).toMatch(/--nodes.*'0' is invalid\. expected a whole number from 1 to 40/);
    const run = mirosnet(['log', 'check', '/nonexistent-run']);
    expect(run).toMatchObject({ status: 2, stdout: '' });
    expect(run.stderr).toMatch(/^mirosnet log: \/nonexistent-run: no such file or directory\n→ give a run directory/);
    const cwd = tempDir();
    const key = mirosnet(['snoop', '--dir', cwd, '--user', 'u', '--password', 'p', '--keys', 'notakey'], cwd);
    expect(key.status).toBe(2);
    expect(key.stderr).toMatch(/--trace-key \(or the first of --keys\) is not a 32-byte/);
  });

  it('log check --json prints JSON when the check cannot run too', () => {
    const empty = tempDir();
    const r = mirosnet(['log', 'check', empty, '--json']);
    expect(r.status).toBe(2);
    expect(JSON.parse(r.stdout)).toEqual({ ok: false, error: `${empty}: no .jsonl files (distributed.jsonl, <instance>.jsonl): is it a run directory?` });
    expect(r.stderr).toMatch(/is it a run directory\?\n→ give a run directory/);
  });

  it('fault list: one line per fault in force, or --json one document; "no fault in force" on stderr', () => {
    const dir = tempDir();
    expect(mirosnet(['fault', 'list', '--dir', dir, '--json'])).toEqual({ status: 0, stdout: '{"faults":[],"shed":0}\n', stderr: 'mirosnet: no fault in force\n' });
    const cut = { ...record('partition', ['n1', 'n2'], 'netns', 'nft: 2 elements', { kind: 'heal', target: ['n1', 'n2'] }), at: at(1) };
    inForce(dir, [cut]);
    expect(mirosnet(['fault', 'list', '--dir', dir])).toEqual({ status: 0, stdout: `${at(1)}  partition n1 n2: nft: 2 elements (undo: mirosnet fault heal n1 n2)\n`, stderr: '' });
    expect(JSON.parse(mirosnet(['fault', 'list', '--dir', dir, '--json']).stdout)).toEqual({ faults: [cut], shed: 0 });
  });

  it('fault heal --all: nothing in force says so (--json: empty lists); with a node it is a usage error', () => {
    const dir = tempDir();
    expect(mirosnet(['fault', 'heal', '--all', '--json', '--dir', dir])).toEqual({ status: 0, stdout: '{"healed":[],"failed":[]}\n', stderr: 'mirosnet: no fault in force\n' });
    const both = mirosnet(['fault', 'heal', 'n1', '--all', '--dir', dir]);
    expect(both.status).toBe(2);
    expect(both.stderr).toMatch(/fault heal --all takes no node/);
  });
});

describe('healAll', () => {
  /** A catalogue of fakes: every inject records its call and writes the record a real one would. */
  function fakes(calls: string[], failing = new Set<string>()): Catalogue {
    const row = (kind: string, heal?: string, params = 1): FaultSpec => ({
      summary: kind,
      params: Array.from({ length: params }, (_, i) => ({ name: `a${i}`, kind: 'node', optional: kind === 'heal' ? true : undefined })),
      heal,
      writes: '',
      inject: async (args) => {
        calls.push([kind, ...args].join(' '));
        if (failing.has(kind)) throw new Error(`${kind} failed here`);
        return record(kind, [...args], 'netns', `${kind} done`, heal ? { kind: heal, target: [...args] } : undefined);
      },
    });
    return {
      partition: row('partition', 'heal', 2),
      latency: row('latency', 'heal'),
      heal: row('heal', undefined, 2),
      'pause-broker': row('pause-broker', 'resume-broker'),
      'resume-broker': row('resume-broker'),
      alarm: row('alarm', 'clear-alarm'),
      'clear-alarm': row('clear-alarm'),
    };
  }

  it('undoes every fault in force, newest first: cuts and toxics with one heal, then each other by its undo', async () => {
    const dir = tempDir();
    const calls: string[] = [];
    const catalogue = fakes(calls);
    for (const [kind, args] of [['partition', ['n1', 'n2']], ['pause-broker', ['n3']], ['latency', ['n2']], ['alarm', ['n1']], ['pause-broker', ['n1']]] as const) {
      await injectFault(kind, args, { dir }, { catalogue });
    }
    calls.length = 0;
    const result = await healAll({ dir }, catalogue);
    expect(calls).toEqual(['heal', 'resume-broker n1', 'clear-alarm n1', 'resume-broker n3']);
    expect(result.healed.map((r) => r.kind)).toEqual(['heal', 'resume-broker', 'clear-alarm', 'resume-broker']);
    expect(result.failed).toEqual([]);
    expect(faultsInForce(dir).faults).toEqual([]);
  });

  it('a failed undo is reported, the others go on, and its fault stays in force', async () => {
    const dir = tempDir();
    const calls: string[] = [];
    await injectFault('alarm', ['n2'], { dir }, { catalogue: fakes(calls) });
    await injectFault('pause-broker', ['n1'], { dir }, { catalogue: fakes(calls) });
    const result = await healAll({ dir }, fakes(calls, new Set(['clear-alarm'])));
    expect(result.healed.map((r) => [r.kind, ...r.target].join(' '))).toEqual(['resume-broker n1']);
    expect(result.failed).toEqual([{ fault: expect.objectContaining({ kind: 'alarm', target: ['n2'] }), error: 'clear-alarm failed here' }]);
    expect(faultsInForce(dir).faults.map((f) => f.kind)).toEqual(['alarm']);
  });
});
