// The `mirosnet` command as users run it (node bin/mirosnet.mjs …), against the
// shared cluster of the global setup (read-only) and an empty dir (error paths).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { clusterFilePath, defaultDir } from '../../ops/cluster/index.ts';
import { REPO_ROOT } from '../../ops/cluster/options.ts';
import { clusterInfo } from '../setup/cluster-info.ts';
import { amqpLogin } from './cluster-helpers.ts';

function mirosnet(...args: string[]) {
  return mirosnetEnv({}, ...args);
}

function mirosnetEnv(env: NodeJS.ProcessEnv, ...args: string[]) {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin/mirosnet.mjs'), ...args], { encoding: 'utf8', cwd: REPO_ROOT, timeout: 60_000, env: { ...process.env, ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const empty = mkdtempSync(join(tmpdir(), 'mirosnet-cli-'));
afterAll(() => rmSync(empty, { recursive: true, force: true }));

describe('mirosnet CLI: the shared cluster', { timeout: 60_000 }, () => {
  it('is provided to tests and written to $MIROS_CLUSTER_FILE', () => {
    const info = clusterInfo();
    expect(process.env.MIROS_CLUSTER_FILE).toBe(clusterFilePath(defaultDir()));
    // (a node restarted by another test gets a new pid and the file a new createdAt, and a test
    // that grows the shared cluster adds nodes after these: compare the rest, node by node)
    const stable = (c: typeof info, count: number) => ({ ...c, createdAt: undefined, nodes: c.nodes.slice(0, count).map((n) => ({ ...n, pid: undefined })) });
    expect(stable(JSON.parse(readFileSync(process.env.MIROS_CLUSTER_FILE!, 'utf8')), info.nodes.length)).toEqual(stable(info, info.nodes.length));
    expect(info.nodes.length).toBeGreaterThanOrEqual(3);
    expect(info.nodes.slice(0, 3).map((n) => n.host)).toEqual(['127.0.0.11', '127.0.0.12', '127.0.0.13']);
  });

  it('accepts peter/rabbit on every node', async () => {
    for (const n of clusterInfo().nodes) expect(await amqpLogin(n.amqpUrl)).toBe('ok');
  });

  it('cluster status prints a table of healthy nodes and exits 0', () => {
    const r = mirosnet('cluster', 'status');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^NODE\s+AMQP URL\s+MANAGEMENT URL\s+METRICS\s+STATE/);
    for (const n of clusterInfo().nodes) {
      expect(lines.find((l) => l.startsWith(n.name + ' '))).toMatch(new RegExp(`${n.amqpUrl.replace(/[.%/]/g, '\\$&')}\\s+${n.managementUrl.replace(/[./]/g, '\\$&')}\\s+http://\\S+:15692/metrics\\s+healthy`));
    }
    expect(lines.at(-1)).toMatch(/^(\d+)\/\1 healthy · backend local/);
  });

  it('cluster status --json gives the same nodes', () => {
    const s = JSON.parse(mirosnet('cluster', 'status', '--json').stdout) as { up: boolean; nodes: { node: { name: string }; healthy: boolean }[] };
    expect(s.up).toBe(true);
    // the first nodes are the provided ones (a test may have grown the shared cluster since)
    expect(s.nodes.slice(0, clusterInfo().nodes.length).map((n) => n.node.name)).toEqual(clusterInfo().nodes.map((n) => n.name));
    expect(s.nodes.every((n) => n.healthy)).toBe(true);
  });
});

describe('mirosnet CLI: cluster up --json', { timeout: 120_000 }, () => {
  it('prints the status as JSON on stdout, its progress on stderr (the shared cluster kept as it is)', () => {
    const count = (JSON.parse(readFileSync(process.env.MIROS_CLUSTER_FILE!, 'utf8')) as { nodes: unknown[] }).nodes.length;
    const r = mirosnet('cluster', 'up', '--nodes', String(count), '--json');
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout) as { up: boolean; topology: string; nodes: { healthy: boolean; membership?: { running: string[] } }[] };
    expect(s).toMatchObject({ up: true, topology: 'mesh' });
    expect(s.nodes).toHaveLength(count);
    // each broker reports a cluster of itself alone: a mesh
    expect(s.nodes.every((n) => n.healthy && n.membership?.running.length === 1)).toBe(true);
    expect(r.stderr).toMatch(/n1 {2}already up/);
  });
});

describe('mirosnet CLI: errors say what failed and what to do', { timeout: 60_000 }, () => {
  it('status of a dir without a cluster says so and exits 3', () => {
    const r = mirosnet('cluster', 'status', '--dir', empty);
    expect(r.code).toBe(3);
    expect(r.stdout + r.stderr).toContain(`no cluster in ${empty}`);
  });

  it('the docker backend without an engine says so (exit 1)', () => {
    // (with an engine: scripts/ci-docker.sh)
    const r = mirosnetEnv({ DOCKER_HOST: `unix://${join(empty, 'no-docker.sock')}` }, 'cluster', 'up', '--backend', 'docker', '--dir', empty);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^mirosnet: no Docker engine answers .*\n→ start dockerd/);
  });

  it('cluster partition is retired: it says so and runs fault isolate (no cluster here: exit 1)', () => {
    const r = mirosnet('cluster', 'partition', 'n1', '--dir', empty);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('`cluster partition` is deprecated and goes in the next release: use `mirosnet fault isolate n1`');
    expect(r.stderr).toMatch(/no cluster is up in .*\n→ start one: mirosnet cluster up/);
  });

  it('an unknown node is named (exit 1)', () => {
    const r = mirosnet('cluster', 'logs', 'n9');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no node 'n9'.*\n→ nodes: n1, n2, n3/);
  });

  it('a bad option value is a usage error (exit 2)', () => {
    const r = mirosnet('cluster', 'up', '--nodes', 'many', '--dir', empty);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("argument 'many' is invalid");
  });

  it('cluster logs NODE prints that node’s own log', () => {
    const r = mirosnet('cluster', 'logs', 'n1', '--lines', '0');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Server startup complete');
  });

  it('keygen prints a new Fernet key', () => {
    const a = mirosnet('keygen');
    const b = mirosnet('keygen');
    expect(a.code).toBe(0);
    expect(a.stdout.trim()).toMatch(/^[A-Za-z0-9_-]{43}=$/);
    expect(Buffer.from(a.stdout.trim(), 'base64url')).toHaveLength(32);
    expect(a.stdout).not.toBe(b.stdout);
  });
});
