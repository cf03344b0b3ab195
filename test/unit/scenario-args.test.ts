// The scenario scripts' command line, as users run them (node scenarios/X.mjs …, zx, and
// mirosnet scenario X): --help answers 0, a usage error or an unknown scenario one line on
// stderr and 2, without touching a cluster (--dir points nowhere). Pure parsing: scriptArgv.
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { scriptArgv } from '../../ops/scenario/api.ts';
import { scenarioNames } from '../../ops/scenario/index.ts';

const repo = resolve(import.meta.dirname, '../..');
const NOWHERE = ['--dir', '/nonexistent/mirosnet-scenario-args-test'];
const lines = (s: string) => s.split('\n').filter((l) => l !== '');

async function run(cmd: string[], args: string[]): Promise<{ status: number; out: string; err: string }> {
  try {
    const r = await promisify(execFile)(cmd[0], [...cmd.slice(1), ...args], { cwd: repo, encoding: 'utf8' });
    return { status: 0, out: r.stdout, err: r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { status: x.code, out: x.stdout, err: x.stderr };
  }
}
const script = (name: string, args: string[]) => run([process.execPath, join('scenarios', `${name}.mjs`)], args);

// concurrent: each case is a node process that only parses (about 1 s each on a busy machine)
describe.concurrent('scenario scripts: the command line', { timeout: 90_000 }, () => {
  it('scenarioNames() lists the scripts in scenarios/', () => {
    const scripts = readdirSync(join(repo, 'scenarios')).filter((f) => f.endsWith('.mjs')).map((f) => f.slice(0, -4));
    expect(scenarioNames()).toEqual(scripts.sort());
    expect(scenarioNames()).toEqual(expect.arrayContaining(['mesh-ring', 'trace', 'spy', 'scribble', 'wrong-key', 'late-joiner', 'broker-restart', 'horse-archer', 'chaos', 'scale']));
  });

  it('--help prints the usage with the options in order and exits 0', async () => {
    const r = await script('mesh-ring', ['--help']);
    expect(r.status).toBe(0);
    expect(r.out).toMatch(/Usage: mesh-ring \[options\]/);
    expect(r.out).toMatch(/N charts pass a token around the ring/);
    expect(r.out).toMatch(/--nodes <n>[\s\S]*--backend <kind>[\s\S]*--laps <n>[\s\S]*--timeout <seconds>[\s\S]*--logs <dir>[\s\S]*--dir <path>/);
    expect(r.err).toBe('');
  });

  it('every script has a one-line description in its --help', async () => {
    const all = await Promise.all(scenarioNames().map(async (name) => [name, await script(name, ['--help'])] as const));
    for (const [name, r] of all) {
      expect(r.status, `${name}: ${r.err}`).toBe(0);
      expect(lines(r.out)[1]?.length, name).toBeGreaterThan(20); // "Usage: …", then the description
    }
  });

  it('every script takes the common flags docs/scenarios.md promises', async () => {
    const common = ['--nodes', '--backend', '--timeout', '--logs', '--dir', '--tls', '--topology', '--json'];
    const all = await Promise.all(scenarioNames().map(async (name) => [name, await script(name, ['--help'])] as const));
    for (const [name, r] of all) expect(common.filter((flag) => !new RegExp(`^\\s+${flag}\\b`, 'm').test(r.out)), name).toEqual([]);
  });

  it.each([
    ['an unknown flag', 'mesh-ring', ['--lap', '3'], /unknown option '--lap'.*Did you mean --laps\?/],
    ['a flag the scenario does not use', 'trace', ['--laps', '3'], /unknown option '--laps'/],
    ['too few nodes', 'mesh-ring', ['--nodes', '1'], /--nodes.*'1' is invalid.*>= 2/],
    ['a node count that is not a number', 'spy', ['--nodes', 'three'], /--nodes.*'three' is invalid/],
    ['an unknown backend', 'mesh-ring', ['--backend', 'vm'], /Allowed choices are local, netns, docker/],
    ['an unknown fault kind', 'chaos', ['--faults', 'partition,flood'], /unknown fault kind\(s\) flood: the kinds are partition, isolate/],
    ['a chaos option elsewhere', 'mesh-ring', ['--seed', '3'], /unknown option '--seed'/],
    ['an unknown topology', 'spy', ['--topology', 'star'], /Allowed choices are mesh, clustered/],
    ['a bad timeout', 'scribble', ['--timeout', '-5'], /--timeout.*is invalid/],
    ['a stray argument', 'mesh-ring', ['extra', '--nodes', '3'], /too many arguments/],
  ])('%s: one line on stderr, status 2', async (_, name, argv, message) => {
    const r = await script(name, [...argv, ...NOWHERE]);
    expect(r.status).toBe(2);
    expect(lines(r.err)).toHaveLength(1);
    expect(r.err).toMatch(message);
    expect(r.err).toMatch(new RegExp(`^scenario ${name}: .*--help`));
    expect(r.out).toBe('');
  });

  it('chaos --help lists its knobs; latency on the local backend is refused with the reason, status 2, before any cluster', async () => {
    const r = await script('chaos', ['--help']);
    expect(r.status).toBe(0);
    expect(r.out).toMatch(/--seed <n>[\s\S]*--cycles <n>[\s\S]*--faults <kinds>[\s\S]*--instances <n>[\s\S]*--resume-p99 <seconds>/);
    const refused = await script('chaos', ['--faults', 'latency,kill-broker', '--backend', 'local', '--dir', '/nonexistent/mirosnet-test']);
    expect(refused.status).toBe(2);
    expect(refused.err).toMatch(/latency needs a network namespace per host .*local nodes share this machine's network stack/);
    expect(refused.err).toMatch(/--faults kill-broker/);
  });

  it('run by zx (the script path comes first in argv), the same command line', async () => {
    const zx = [join(repo, 'node_modules', '.bin', 'zx'), join('scenarios', 'mesh-ring.mjs')];
    expect((await run(zx, ['--help'])).out).toMatch(/Usage: mesh-ring \[options\]/);
    const r = await run(zx, ['--lap', '3', ...NOWHERE]);
    expect(r.status).toBe(2);
    expect(r.err).toMatch(/unknown option '--lap'.*Did you mean --laps\?/);
  });

  it('mirosnet scenario NAME runs the script; an unknown NAME: one line naming every scenario, status 2', async () => {
    const cli = [process.execPath, 'bin/mirosnet.mjs', 'scenario'];
    const help = await run(cli, ['trace', '--help']);
    expect(help.status).toBe(0);
    expect(help.out).toMatch(/Usage: trace \[options\]/);
    const r = await run(cli, ['mesh-rign', '--nodes', '3']);
    expect(r.status).toBe(2);
    expect(lines(r.err)).toHaveLength(1);
    expect(r.err).toContain("no scenario 'mesh-rign'");
    for (const name of scenarioNames()) expect(r.err).toContain(name);
  });
});

describe('scriptArgv', () => {
  it('is the arguments after the script under node', () => {
    expect(scriptArgv(['/usr/bin/node', '/x/scenarios/mesh-ring.mjs', '--nodes', '3'])).toEqual(['--nodes', '3']);
  });
  it('leaves out the script path zx puts first', () => {
    const self = join(repo, 'scenarios', 'mesh-ring.mjs');
    expect(scriptArgv(['/usr/bin/node', '/x/node_modules/zx/build/cli.js', self, '--nodes', '3'])).toEqual(['--nodes', '3']);
  });
  it('keeps a first argument that is not an existing script', () => {
    expect(scriptArgv(['/usr/bin/node', '/x/cli.js', 'extra.mjs', '--nodes', '3'])).toEqual(['extra.mjs', '--nodes', '3']);
  });
});
