// `mirosnet cluster env`: the environment to join the testbed, shell-sourceable, with no
// secret in its text (the password is read from a 0600 file when sourced). Runs ops/cli.ts
// through tsx against a cluster.json written as ops/cluster writes it (no brokers needed).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { clusterFixture } from './cluster-fixture.ts';
import { formatJoinEnv, joinVars, shellQuote } from '../../ops/cluster/join-env.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const dir = realpathSync(mkdtempSync(join(tmpdir(), 'mirosnet-env-')));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SECRET = "pa'ss w0rd$x";

function mirosnet(args: string[]) {
  const env = { ...process.env };
  delete env.MIROS_CLUSTER_DIR;
  return spawnSync(process.execPath, ['--import', TSX, join(ROOT, 'ops/cli.ts'), ...args], { cwd: ROOT, env, encoding: 'utf8', timeout: 30_000 });
}

describe('mirosnet cluster env', { timeout: 60_000 }, () => {
  it('prints the hosts, user and password file; sourced, it sets RABBIT_PASSWORD from the file, never printing it', () => {
    const file = clusterFixture(['127.0.0.11', '127.0.0.12']);
    writeFileSync(join(dir, 'cluster.json'), JSON.stringify({ ...file, credentials: { user: 'peter', password: SECRET } }));
    const r = mirosnet(['cluster', 'env', '--dir', dir]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).not.toContain('w0rd');
    expect(r.stdout).toContain(`export MIROS_HOSTS='127.0.0.11,127.0.0.12'`);
    expect(r.stdout).toContain(`export RABBIT_USER='peter'\n`);
    expect(r.stdout).toContain(`export RABBIT_PASSWORD_FILE='${join(dir, 'rabbit-password')}'`);
    expect(statSync(join(dir, 'rabbit-password')).mode & 0o777).toBe(0o600);
    const sourced = spawnSync('bash', ['-c', 'eval "$1"; printf "%s|%s|%s|%s" "$RABBIT_PASSWORD" "$MIROS_HOSTS" "$MIROS_CLUSTER_FILE" "$RABBIT_PORT"', 'bash', r.stdout], { encoding: 'utf8' });
    expect(sourced.stdout).toBe(`${SECRET}|127.0.0.11,127.0.0.12|${join(dir, 'cluster.json')}|5672`);
    const json = mirosnet(['cluster', 'env', '--dir', dir, '--json']);
    expect(JSON.parse(json.stdout)).toEqual({
      MIROS_CLUSTER_FILE: join(dir, 'cluster.json'),
      MIROS_HOSTS: '127.0.0.11,127.0.0.12',
      MIROS_TOPOLOGY: 'mesh',
      RABBIT_USER: 'peter',
      RABBIT_PASSWORD_FILE: join(dir, 'rabbit-password'),
      RABBIT_PORT: '5672',
    });
  });

  it('with mutual TLS: the CA, and node 1 client certificate and key by path', () => {
    const file = { ...clusterFixture(['10.77.0.11']), tls: { mode: 'on' as const, caFile: '/t/ca.pem', dir: '/t', mutual: true } };
    const text = formatJoinEnv(file, '/c/cluster.json', joinVars(file, '/c/cluster.json', '/c/rabbit-password'));
    expect(text).toMatch(/^export RABBIT_TLS_CA='\/t\/ca\.pem'$/m);
    expect(text).toMatch(/^export RABBIT_TLS_CERT='\/t\/hosts\/10\.77\.0\.11\/\S+'/m);
    expect(text).toMatch(/^export RABBIT_TLS_KEY='\/t\/hosts\/10\.77\.0\.11\/\S+'$/m);
  });

  it('without a cluster: exit 1, saying how to start one', () => {
    const empty = realpathSync(mkdtempSync(join(tmpdir(), 'mirosnet-env-none-')));
    const r = mirosnet(['cluster', 'env', '--dir', empty]);
    rmSync(empty, { recursive: true, force: true });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/no cluster is up in .*\n→ start one: mirosnet cluster up --dir/);
  });

  it('quotes for the shell', () => {
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
  });
});
