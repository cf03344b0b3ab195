// Broker faults on real nodes (local backend): an isolated 2-node cluster (127.0.2.11-12,
// names fl1/fl2, its own epmd and dist ports, a temp dir) that never touches the shared
// one in <repo>/.cluster. Network faults need namespaces: here they must refuse.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { down, locateNode, status, up, type StartedCluster } from '../../ops/cluster/index.ts';
import { tcpProbe } from '../../ops/cluster/health.ts';
import { isRunning, procState } from '../../ops/cluster/process.ts';
import { UnsupportedError, killBroker, partition, pauseBroker, restartBroker, resumeBroker } from '../../ops/faults/index.ts';
import { amqpLogin, isolatedOptions } from './cluster-helpers.ts';

const opts = isolatedOptions({ nodes: 2, addressBase: '127.0.2.11', namePrefix: 'fl', epmdPort: 4375, distPortBase: 25800 });
const dir = opts.dir!;
let cluster: StartedCluster;

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

describe('faults: local backend', { timeout: 120_000 }, () => {
  beforeAll(async () => {
    cluster = await up(opts);
  }, 240_000);

  afterAll(async () => {
    await down({ dir, log: () => {} });
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('pause-broker freezes the beam (AMQP login times out), resume-broker brings it back', async () => {
    const beam = locateNode('fl2', { dir }).node.beam!;
    const rec = await pauseBroker('fl2', { dir });
    try {
      expect(rec).toMatchObject({ kind: 'pause-broker', target: ['fl2'], backend: 'local', undo: { kind: 'resume-broker', target: ['fl2'] } });
      expect(rec.detail).toContain(`SIGSTOP beam.smp ${beam}`);
      expect(procState(beam)).toBe('T');
      // the kernel still completes the TCP handshake (listen backlog); the AMQP handshake never answers
      expect(await tcpProbe(cluster.nodes[1].host, 5672, 2000)).toBe('open');
      expect(await amqpLogin(cluster.urls()[1])).toMatch(/ETIMEDOUT|timeout|timed out/i);
      expect(await amqpLogin(cluster.urls()[0])).toBe('ok'); // the other node is untouched
    } finally {
      await resumeBroker('fl2', { dir });
    }
    expect(procState(beam)).not.toBe('T');
    expect(await amqpLogin(cluster.urls()[1])).toBe('ok');
  });

  it('kill-broker leaves the process gone and status shows the node down; restart-broker brings it back healthy', async () => {
    const beam = locateNode('fl2', { dir }).node.beam!;
    const rec = await killBroker('fl2', { dir });
    expect(rec).toMatchObject({ kind: 'kill-broker', target: ['fl2'], undo: { kind: 'restart-broker', target: ['fl2'] } });
    expect(isRunning(beam)).toBe(false);
    const s = await status({ dir });
    expect(s.nodes.find((n) => n.node.name === 'fl2')).toMatchObject({ state: 'down', healthy: false });
    expect(s.nodes.find((n) => n.node.name === 'fl1')).toMatchObject({ state: 'healthy' });

    const restarted = await restartBroker('fl2', { dir });
    expect(restarted).toMatchObject({ kind: 'restart-broker', target: ['fl2'] });
    const after = await status({ dir });
    expect(after.nodes.map((n) => n.state)).toEqual(['healthy', 'healthy']);
    expect(locateNode('fl2', { dir }).node.beam).not.toBe(beam);
    expect(await amqpLogin(cluster.urls()[1])).toBe('ok');
  });

  it('partition throws UnsupportedError, and `mirosnet fault partition` exits 2 with the reason', async () => {
    await expect(partition('fl1', 'fl2', { dir })).rejects.toBeInstanceOf(UnsupportedError);
    const r = spawnSync(process.execPath, ['--import', TSX, join(ROOT, 'ops/cli.ts'), 'fault', 'partition', 'fl1', 'fl2', '--dir', dir], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/partition needs the netns or docker backend: local nodes share one network stack/);
  });
});
