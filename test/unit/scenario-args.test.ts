// The scenario entry point's command line: main(name, raw argv) answers --help with 0, and a
// usage error or an unknown scenario with one line on stderr and 2, without touching a cluster.
import { readdirSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main, scenarioNames } from '../../ops/scenario/index.ts';

let out = '';
let err = '';
beforeEach(() => {
  out = '';
  err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((out += String(chunk)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => ((err += String(chunk)), true));
});
afterEach(() => {
  vi.restoreAllMocks();
});

const lines = (s: string) => s.split('\n').filter((l) => l !== '');

describe('scenario main()', () => {
  it('lists the scenarios the scripts in scenarios/ run', () => {
    const scripts = readdirSync(new URL('../../scenarios/', import.meta.url)).filter((f) => f.endsWith('.mjs')).map((f) => f.slice(0, -4));
    expect([...scenarioNames()].sort()).toEqual(scripts.sort());
  });

  it('--help prints the usage with the scenario description and returns 0', async () => {
    expect(await main('mesh-ring', ['--help'])).toBe(0);
    expect(out).toMatch(/Usage: mesh-ring \[options\]/);
    expect(out).toMatch(/N charts pass a token around the ring/);
    expect(out).toMatch(/--nodes <n>[\s\S]*--backend <kind>[\s\S]*--laps <n>[\s\S]*--timeout <seconds>[\s\S]*--logs <dir>[\s\S]*--dir <path>/);
    expect(err).toBe('');
  });

  it('every scenario has a one-line description in its --help', async () => {
    for (const name of scenarioNames()) {
      out = '';
      expect(await main(name, ['--help'])).toBe(0);
      expect(lines(out)[1]?.length, name).toBeGreaterThan(20); // "Usage: …", then the description
    }
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
    ['a stray argument (zx puts the script path here)', 'mesh-ring', ['scenarios/mesh-ring.mjs', '--nodes', '3'], /too many arguments/],
  ])('%s: one line on stderr, status 2', async (_, name, argv, message) => {
    expect(await main(name, argv)).toBe(2);
    expect(lines(err)).toHaveLength(1);
    expect(err).toMatch(message);
    expect(err).toMatch(new RegExp(`^scenario ${name}: .*--help`));
    expect(out).toBe('');
  });

  it('chaos --help lists its knobs; latency on the local backend is refused with the reason, status 2, before any cluster', async () => {
    expect(await main('chaos', ['--help'])).toBe(0);
    expect(out).toMatch(/--seed <n>[\s\S]*--cycles <n>[\s\S]*--faults <kinds>[\s\S]*--instances <n>[\s\S]*--resume-p99 <seconds>/);
    err = '';
    expect(await main('chaos', ['--faults', 'latency,kill-broker', '--backend', 'local', '--dir', '/nonexistent/mirosnet-test'])).toBe(2);
    expect(err).toMatch(/latency needs a network namespace per host .*local nodes share this machine's network stack/);
    expect(err).toMatch(/--faults kill-broker/);
  });

  it('an unknown scenario: one line naming every scenario, status 2', async () => {
    expect(await main('mesh-rign', ['--nodes', '3'])).toBe(2);
    expect(lines(err)).toHaveLength(1);
    expect(err).toContain("no scenario 'mesh-rign'");
    for (const name of scenarioNames()) expect(err).toContain(name);
  });
});
