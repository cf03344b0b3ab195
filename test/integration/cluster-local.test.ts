// The local backend against real RabbitMQ nodes, on an isolated cluster
// (127.0.1.x, nodes t1…t3, epmd on 4371, a temp dir): the shared cluster of the
// other integration tests is never touched.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { down, readClusterFile, status, up, type ClusterFile, type StartedCluster } from '../../ops/cluster/index.ts';
import { opsAdmin } from '../../ops/cluster/admin.ts';
import { httpGet, tcpProbe } from '../../ops/cluster/health.ts';
import { REPO_ROOT } from '../../ops/cluster/options.ts';
import { isRunning } from '../../ops/cluster/process.ts';
import { PROMETHEUS_BIN, observing, startObserve } from '../../ops/observe/prometheus.ts';
import { until } from '../../ops/util/wait.ts';
import { amqpLogin, isolatedOptions, withCredentials } from './cluster-helpers.ts';

const opts = isolatedOptions({ nodes: 3 });
const dir = opts.dir!;
let cluster: StartedCluster;

describe('cluster: local backend', { timeout: 240_000 }, () => {
  beforeAll(async () => {
    cluster = await up(opts);
  }, 240_000);

  afterAll(async () => {
    await down({ dir, log: () => {} });
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it('describes the running cluster in cluster.json', () => {
    const file = readClusterFile(dir) as ClusterFile;
    expect(file).toEqual(cluster.file);
    expect(Object.keys(file)).toEqual(['version', 'backend', 'topology', 'createdAt', 'credentials', 'toxics', 'nodes']);
    expect(file).toMatchObject({ version: 2, topology: 'mesh', toxics: { proxy: false, netem: false } });
    expect(file.backend).toBe('local');
    expect(new Date(file.createdAt).toISOString()).toBe(file.createdAt);
    expect(file.credentials).toEqual({ user: 'peter', password: 'rabbit' });
    expect(file.nodes.map((n) => [n.name, n.index, n.host, n.erlangNode])).toEqual([
      ['t1', 1, '127.0.1.11', 't1@localhost'],
      ['t2', 2, '127.0.1.12', 't2@localhost'],
      ['t3', 3, '127.0.1.13', 't3@localhost'],
    ]);
    for (const n of file.nodes) {
      expect(Object.keys(n)).toEqual(['name', 'index', 'host', 'amqpPort', 'managementPort', 'amqpUrl', 'managementUrl', 'prometheusPort', 'erlangNode', 'distPort', 'pid', 'namespace', 'container', 'dataDir', 'logFile']);
      expect(n.amqpUrl).toBe(`amqp://peter:rabbit@${n.host}:5672/%2F`);
      expect(n.managementUrl).toBe(`http://${n.host}:15672`);
      expect(n.prometheusPort).toBe(15692);
      expect(isRunning(n.pid)).toBe(true);
      expect(existsSync(n.logFile)).toBe(true);
    }
    expect(cluster.urls()).toEqual(file.nodes.map((n) => n.amqpUrl));
  });

  it('accepts peter/rabbit on every node and refuses guest/guest and a wrong password', async () => {
    for (const url of cluster.urls()) {
      expect(await amqpLogin(url)).toBe('ok');
      expect(await amqpLogin(withCredentials(url, 'guest', 'guest'))).toMatch(/ACCESS_REFUSED|403/);
      expect(await amqpLogin(withCredentials(url, 'peter', 'wrong'))).toMatch(/ACCESS_REFUSED|403/);
    }
  });

  it("answers /api/overview on each node with that node's name, for peter and the ops admin, not guest", async () => {
    const admin = opsAdmin(dir).credentials;
    for (const n of cluster.nodes) {
      expect((await httpGet(`${n.managementUrl}/api/overview`, { user: 'peter', password: 'rabbit' })).status).toBe(200);
      const res = await httpGet(`${n.managementUrl}/api/overview`, admin); // `node` is shown to monitoring users and up
      expect(JSON.parse(res.body).node).toBe(n.erlangNode);
      expect((await httpGet(`${n.managementUrl}/api/overview`, { user: 'guest', password: 'guest' })).status).toBe(401);
      const users = JSON.parse((await httpGet(`${n.managementUrl}/api/users`, admin)).body) as { name: string; tags: string[] | string }[];
      expect(users.map((u) => u.name).sort()).toEqual([admin.user, 'peter'].sort());
      expect(String(users.find((u) => u.name === admin.user)?.tags)).toContain('administrator');
    }
  });

  it('is idempotent: up again keeps every node and pid', async () => {
    const again = await up(opts);
    expect(again.nodes.map((n) => n.pid)).toEqual(cluster.nodes.map((n) => n.pid));
    expect(again.file.createdAt).toBe(cluster.file.createdAt);
  });

  it('grows with N (up with 4 adds t4, keeping t1–t3) and shrinks back', async () => {
    const before = cluster.nodes.map((n) => n.pid);
    const four = await up({ ...opts, nodes: 4 });
    expect(four.nodes.map((n) => n.name)).toEqual(['t1', 't2', 't3', 't4']);
    expect(four.nodes.slice(0, 3).map((n) => n.pid)).toEqual(before);
    expect(await amqpLogin(four.node('t4').amqpUrl)).toBe('ok');

    cluster = await up(opts);
    expect(cluster.nodes.map((n) => n.pid)).toEqual(before);
    expect(isRunning(four.node('t4').pid)).toBe(false);
    expect(await tcpProbe('127.0.1.14', 5672)).toBe('ECONNREFUSED');
    expect(readClusterFile(dir)!.nodes).toHaveLength(3);
  });

  it('reports a node killed with SIGKILL as unhealthy, and up restarts it', async () => {
    const victim = cluster.node('t2');
    process.kill(victim.pid, 'SIGKILL');
    await until(() => !isRunning(victim.pid), 10_000, 100);

    const s = await status({ dir });
    expect(s.nodes.map((n) => [n.node.name, n.healthy])).toEqual([
      ['t1', true],
      ['t2', false],
      ['t3', true],
    ]);
    expect(s.nodes[1].state).toBe('down');

    cluster = await up(opts);
    expect(cluster.node('t2').pid).not.toBe(victim.pid);
    expect(cluster.node('t1').pid).toBe(s.nodes[0].node.pid);
    expect((await status({ dir })).nodes.every((n) => n.healthy)).toBe(true);
    expect(await amqpLogin(cluster.node('t2').amqpUrl)).toBe('ok');
  });

  it('down leaves no process and no listener', async () => {
    const state = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as { epmdPid?: number; nodes: Record<string, { wrapperPid?: number }> };
    const pids = [...cluster.nodes.map((n) => n.pid), ...Object.values(state.nodes).map((n) => n.wrapperPid), state.epmdPid].filter((p): p is number => !!p);
    expect(pids.length).toBeGreaterThanOrEqual(7);
    // a Prometheus that `mirosnet observe` started for this cluster goes down with it (when installed)
    const observer = existsSync(PROMETHEUS_BIN) ? await startObserve(dir, { port: 19091, log: () => {} }) : undefined;
    if (observer) pids.push(observer.pid);

    const stopped = await cluster.stop();
    expect(observing(dir)).toBe(false);
    expect(stopped.nodes).toEqual(['t1', 't2', 't3']);
    expect(pids.filter(isRunning)).toEqual([]);
    for (const n of cluster.nodes) {
      expect(await tcpProbe(n.host, 5672)).toBe('ECONNREFUSED');
      expect(await tcpProbe(n.host, 15672)).toBe('ECONNREFUSED');
      expect(await tcpProbe(n.host, 15692)).toBe('ECONNREFUSED');
    }
    expect(await tcpProbe('127.0.0.1', 4371)).toBe('ECONNREFUSED');
    expect(readClusterFile(dir)).toBeUndefined();
    expect((await status({ dir })).up).toBe(false);
  });
});

describe('cluster: a node that fails to start', { timeout: 120_000 }, () => {
  const bad = isolatedOptions({ nodes: 1, addressBase: '127.0.1.31', namePrefix: 'f', epmdPort: 4373, distPortBase: 25790 });

  afterAll(async () => {
    await down({ dir: bad.dir, log: () => {} });
    rmSync(bad.dir!, { recursive: true, force: true });
  });

  it('makes `mirosnet cluster up` exit 1 with that node’s own log lines, and down cleans up', async () => {
    const cli = (...args: string[]) =>
      spawnSync(process.execPath, [join(REPO_ROOT, 'bin/mirosnet.mjs'), 'cluster', ...args, '--dir', bad.dir!], { encoding: 'utf8', timeout: 90_000 });
    const r = cli('up', '--nodes', '1', '--address-base', '127.0.1.31', '--name-prefix', 'f', '--epmd-port', '4373', '--dist-port-base', '25790', '--erl-args', '+no_such_flag');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('mirosnet: 1 of 1 nodes failed to start: f1');
    expect(r.stderr).toContain('node f1 (f1@localhost) exited during start-up');
    expect(r.stderr).toContain(`--- ${join(bad.dir!, 'f1', 'stdout.log')}`);
    expect(r.stderr).toContain('bad -n option o_such_flag'); // erl's own complaint, above the usage text of the tail
    expect(r.stderr).toContain('→ full logs: mirosnet cluster logs f1');
    expect(readClusterFile(bad.dir)).toBeUndefined();

    const state = JSON.parse(readFileSync(join(bad.dir!, 'state.json'), 'utf8')) as { epmdPid?: number };
    expect(cli('down').status).toBe(0);
    expect(isRunning(state.epmdPid)).toBe(false);
    expect(await tcpProbe('127.0.0.1', 4373)).toBe('ECONNREFUSED');
  });
});
