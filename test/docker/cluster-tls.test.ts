// `cluster up --backend docker --tls on|only` against a real engine: the node's TLS listener
// (certificates and conf.d put in place by its start-up command), clients verified by the CA.
import { connect } from 'amqplib';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { down, status, up } from '../../ops/cluster/index.ts';
import { tcpProbe } from '../../ops/cluster/health.ts';

const engine = spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], { encoding: 'utf8', timeout: 10_000 }).status === 0;
const root = process.getuid?.() === 0;
// its own network and names, apart from ci-docker.sh's cluster (10.78.0, mrn) and compose (10.80.0)
const dir = mkdtempSync(join(tmpdir(), 'miros-docker-tls-'));
const opts = { dir, backend: 'docker' as const, nodes: 1, nsPrefix: 'mrt', addressBase: '10.78.8.11', log: () => {} };
const host = '10.78.8.11';

describe.skipIf(!engine || !root)(`cluster up --backend docker --tls${engine && root ? '' : ' (NEEDS ROOT AND A DOCKER ENGINE: not run; scripts/ci-docker.sh runs it)'}`, () => {
  afterAll(async () => {
    await down({ dir, log: () => {} }).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  test('--tls on: amqps://…:5671 in cluster.json; a client with the CA gets in, one without it is refused with a certificate error', async () => {
    const c = await up({ ...opts, tls: 'on' });
    expect(c.file.tls?.mode).toBe('on');
    expect(c.nodes[0].amqpUrl).toMatch(new RegExp(`^amqps://peter:rabbit@${host.replace(/\./g, '\\.')}:5671`));
    const ca = readFileSync(c.file.tls!.caFile);
    const conn = await connect(c.nodes[0].amqpUrl, { ca: [ca] });
    await conn.close();
    await expect(connect(c.nodes[0].amqpUrl, { timeout: 10_000 })).rejects.toThrow(/certificate/i);
    expect(await tcpProbe(host, 5672)).toBe('open'); // on: plain AMQP stays beside TLS
    const s = await status({ dir });
    expect(s.nodes.map((n) => n.healthy)).toEqual([true]);
  });

  test('--tls only: no plain AMQP; the management API answers on HTTPS (15671) against the CA', async () => {
    await down({ dir, log: () => {} });
    const c = await up({ ...opts, tls: 'only' });
    expect(c.nodes[0].managementUrl).toBe(`https://${host}:15671`);
    expect(await tcpProbe(host, 5672)).not.toBe('open');
    const conn = await connect(c.nodes[0].amqpUrl, { ca: [readFileSync(c.file.tls!.caFile)] });
    await conn.close();
    const s = await status({ dir }); // the HTTPS health check, verified against the CA
    expect(s.nodes.map((n) => n.healthy), JSON.stringify(s.nodes.map((n) => n.detail))).toEqual([true]);
  });
});
