// The `mirosnet` CLI without a cluster: version, help, exit statuses, usage errors, the
// snoop command's messages, lazy loading. Runs ops/cli.ts through tsx in a child process.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(ROOT, 'ops/cli.ts');
// absolute, so the CLI can run with any working directory
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

const temps: string[] = [];
function tempDir(): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'mirosnet-cli-')));
  temps.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

/** The environment without the settings a developer's shell may carry. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of ['MIROS_CLUSTER_DIR', 'RABBIT_USER', 'RABBIT_PASSWORD', 'MESH_ENCRYPTION_KEY', 'SNOOP_TRACE_ENCRYPTION_KEY', 'SNOOP_SPY_ENCRYPTION_KEY', 'CONNECTION_ATTEMPTS']) {
    delete env[name];
  }
  return { ...env, ...extra };
}

function mirosnet(args: string[], opts: { cwd?: string; env?: Record<string, string>; imports?: string[] } = {}) {
  const loaders = [TSX, ...(opts.imports ?? [])].flatMap((url) => ['--import', url]);
  const r = spawnSync(process.execPath, [...loaders, CLI, ...args], { cwd: opts.cwd ?? ROOT, env: cleanEnv(opts.env), encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A module (for --import) that registers resolve hooks `hooks` (the body of a hooks module). */
function hooks(source: string): string {
  const dir = tempDir();
  writeFileSync(join(dir, 'hooks.mjs'), source);
  writeFileSync(join(dir, 'register.mjs'), "import { register } from 'node:module';\nregister('./hooks.mjs', import.meta.url);\n");
  return pathToFileURL(join(dir, 'register.mjs')).href;
}

describe('mirosnet', () => {
  it('--version prints the package version', () => {
    const r = mirosnet(['--version']);
    expect(r).toMatchObject({ status: 0, stdout: `${VERSION}\n` });
  });

  it('--help documents the exit statuses', () => {
    const r = mirosnet(['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Exit status:[\s\S]*\b2\s+usage error[\s\S]*\b3\s+cluster status: there is no cluster/);
  });

  it('exits 2 on an unknown option, an unknown command or no command, and says where help is', () => {
    const option = mirosnet(['--bogus']);
    expect(option.status).toBe(2);
    expect(option.stderr).toMatch(/unknown option '--bogus'[\s\S]*mirosnet --help/);
    const command = mirosnet(['clustr']);
    expect(command.status).toBe(2);
    expect(command.stderr).toMatch(/unknown command 'clustr'[\s\S]*Did you mean cluster\?/);
    expect(mirosnet([]).status).toBe(2);
    const sub = mirosnet(['cluster', 'up', '--nodes', 'many']);
    expect(sub.status).toBe(2);
    expect(sub.stderr).toMatch(/--nodes.*'many' is invalid[\s\S]*mirosnet cluster up --help/);
  });

  it('cluster status exits 3 when there is no cluster in --dir', () => {
    const dir = tempDir();
    const r = mirosnet(['cluster', 'status', '--dir', dir]);
    expect(r.status).toBe(3);
    // a diagnostic: stderr, with the command that works from an installed package too
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`mirosnet: no cluster in ${dir}: start one with \`mirosnet cluster up --dir ${dir}\``);
    const json = mirosnet(['cluster', 'status', '--dir', dir, '--json']);
    expect(json.status).toBe(3);
    expect(JSON.parse(json.stdout)).toEqual({ dir, up: false, nodes: [] });
  });

  it('keeps its state in .cluster of the working directory, or $MIROS_CLUSTER_DIR', () => {
    const cwd = tempDir();
    expect(mirosnet(['cluster', 'status'], { cwd }).stderr).toContain(`no cluster in ${join(cwd, '.cluster')}:`);
    const other = tempDir();
    expect(mirosnet(['cluster', 'status'], { cwd, env: { MIROS_CLUSTER_DIR: other } }).stderr).toContain(`no cluster in ${other}:`);
  });

  it('snoop --only accepts trace or spy only', () => {
    const r = mirosnet(['snoop', '--only', 'mesh']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/'mesh' is invalid\. Allowed choices are trace, spy/);
  });

  it("snoop's errors name its flags, not the library's option names", () => {
    const cwd = tempDir(); // no .env here, no cluster file in --dir
    const noPassword = mirosnet(['snoop', '--dir', cwd, '--user', 'u'], { cwd });
    expect(noPassword.status).toBe(1);
    expect(noPassword.stderr).toMatch(/--password is missing: pass --password or set RABBIT_PASSWORD/);
    expect(noPassword.stderr).not.toMatch(/rabbitPassword/);
    const badKey = mirosnet(['snoop', '--dir', cwd, '--user', 'u', '--password', 'p', '--keys', 'abc,abc'], { cwd });
    expect(badKey.status).toBe(2); // a malformed key: a bad value
    expect(badKey.stderr).toMatch(/--trace-key \(or the first of --keys\) is not a 32-byte .* \(from the command line\)/);
    expect(badKey.stderr).not.toMatch(/EncryptionKey/);
  });

  it('keygen and --version load none of the cluster, scenario, snoop or docker modules', () => {
    const guard = hooks(`
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  if (/\\/ops\\/(cluster|scenario|logs)\\/|\\/node_modules\\/(dockerode|amqplib)\\//.test(r.url)) throw new Error('loaded eagerly: ' + r.url);
  return r;
}
`);
    const key = mirosnet(['keygen'], { imports: [guard] });
    expect(key.stderr).toBe('');
    expect(key.status).toBe(0);
    expect(key.stdout).toMatch(/^[A-Za-z0-9_-]{43}=\n$/);
    expect(mirosnet(['--version'], { imports: [guard] })).toMatchObject({ status: 0, stdout: `${VERSION}\n` });
    // the guard does catch them
    expect(mirosnet(['cluster', 'status', '--dir', tempDir()], { imports: [guard] }).stderr).toContain('loaded eagerly');
  });

  it('says how to install dockerode when the docker backend needs it and it is missing', () => {
    const noDockerode = hooks(`
export async function resolve(specifier, context, next) {
  if (specifier === 'dockerode') {
    const err = new Error("Cannot find package 'dockerode' imported from " + context.parentURL);
    err.code = 'ERR_MODULE_NOT_FOUND';
    throw err;
  }
  return next(specifier, context);
}
`);
    const dir = tempDir();
    writeFileSync(join(dir, 'state.json'), JSON.stringify({ backend: 'docker', settings: {}, nodes: {} }));
    const r = mirosnet(['cluster', 'status', '--dir', dir], { imports: [noDockerode] });
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe('mirosnet: the docker backend needs the optional package dockerode\n→ npm install dockerode');
  });
});
