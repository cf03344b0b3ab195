// TLS on the wire against real RabbitMQ nodes, on an isolated 2-node cluster started with
// `--tls only` and mutual TLS (127.0.6.11–12, nodes tl1–tl2, epmd on 4383, a temp dir): the
// shared cluster of the other integration tests is never touched.
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { down, readClusterFile, status, up, type StartedCluster } from '../../ops/cluster/index.ts';
import { opsAdmin } from '../../ops/cluster/admin.ts';
import { httpGet, tcpProbe } from '../../ops/cluster/health.ts';
import { hostFiles, initTls } from '../../ops/tls/certificates.ts';
import { Event, NetworkedActiveObject, ReturnStatus, generateKey, signals, type NetworkedOptions } from '../../runtime/index.ts';
import { probeAmqp } from '../../runtime/lan/probe.ts';
import { BrokerTlsError } from '../../runtime/net/tls.ts';
import { until } from '../../ops/util/wait.ts';
import { isolatedOptions } from './cluster-helpers.ts';
import { runScript } from './scenario-helpers.ts';

const opts = isolatedOptions({ nodes: 2, addressBase: '127.0.6.11', namePrefix: 'tl', distPortBase: 26200, epmdPort: 4383, tls: 'only', tlsMutual: true });
const dir = opts.dir!;
const tlsDir = join(dir, 'tls');
/** A second CA with certificates for the same hosts: what the brokers must not accept. */
const strangerDir = mkdtempSync(join(tmpdir(), 'mirosnet-tls-stranger-'));
let cluster: StartedCluster;
let hosts: string[];
const key = generateKey();
const charts: NetworkedActiveObject[] = [];

/** A chart on broker `index` (not started); its warnings are collected. */
function chart(name: string, index: number, extra: NetworkedOptions = {}): { chart: NetworkedActiveObject; warnings: string[] } {
  const warnings: string[] = [];
  const c = new NetworkedActiveObject(`${name}-${process.pid}`, {
    rabbitUser: 'peter',
    rabbitPassword: 'rabbit',
    meshEncryptionKey: key,
    txRoutingKey: 'tls.mesh',
    rxRoutingKey: 'tls.mesh',
    hosts,
    thisAddress: hosts[index],
    startTimeoutMs: 20_000,
    rediscoverIntervalMs: 0,
    onWarning: (m) => warnings.push(m),
    output: () => undefined,
    ...extra,
  });
  charts.push(c);
  return { chart: c, warnings };
}

/** The client certificate of broker `index`'s host, from the cluster's CA (or the stranger's). */
function clientCert(index: number, from = tlsDir): NetworkedOptions {
  const f = hostFiles(from, hosts[index]);
  return { rabbitTlsCert: f.clientCert, rabbitTlsKey: f.clientKey };
}

const trusted = (): NetworkedOptions => ({ rabbitTlsCa: join(tlsDir, 'ca.pem') });

function recorder(got: string[]) {
  return (c: NetworkedActiveObject, e: Event): ReturnStatus => {
    if (signals.isInner(e.signal)) return c.super(c.top);
    got.push(e.signalName);
    return ReturnStatus.HANDLED;
  };
}

/** startAt's rejection and how long it took, or 'started'. */
async function startFails(c: NetworkedActiveObject): Promise<{ err: unknown; ms: number }> {
  const t0 = Date.now();
  try {
    await c.startAt(recorder([]) as never);
    return { err: 'started', ms: Date.now() - t0 };
  } catch (err) {
    return { err, ms: Date.now() - t0 };
  }
}

describe('TLS: an isolated 2-node cluster with --tls only and mutual TLS', { timeout: 120_000 }, () => {
  beforeAll(async () => {
    cluster = await up(opts);
    hosts = cluster.nodes.map((n) => n.host);
    await initTls({ dir: strangerDir, hosts, log: () => undefined });
  }, 180_000);

  afterAll(async () => {
    await Promise.all(charts.map((c) => c.stop().catch(() => undefined)));
    await down({ dir, log: () => {} });
    rmSync(dir, { recursive: true, force: true });
    rmSync(strangerDir, { recursive: true, force: true });
  }, 120_000);

  it('records TLS in cluster.json: amqps on 5671, the management API on https 15671, no plain listeners', async () => {
    const file = readClusterFile(dir)!;
    expect(file.tls).toEqual({ mode: 'only', caFile: join(tlsDir, 'ca.pem'), dir: tlsDir, mutual: true });
    for (const n of file.nodes) {
      expect(n.amqpUrl).toBe(`amqps://peter:rabbit@${n.host}:5671/%2F`);
      expect([n.amqpPort, n.managementPort, n.managementUrl]).toEqual([5671, 15671, `https://${n.host}:15671`]);
      expect(await tcpProbe(n.host, 5672, 1000)).toBe('ECONNREFUSED');
      expect(await tcpProbe(n.host, 15672, 1000)).toBe('ECONNREFUSED');
    }
    // keys private, certificates readable
    expect(statSync(join(tlsDir, 'ca.key')).mode & 0o777).toBe(0o600);
    expect(statSync(hostFiles(tlsDir, hosts[0]).serverKey).mode & 0o777).toBe(0o600);
    expect(statSync(hostFiles(tlsDir, hosts[0]).serverCert).mode & 0o777).toBe(0o644);
  });

  it('checks health over https verified against the CA; without the CA the management API is not trusted', async () => {
    const s = await status({ dir });
    expect(s.nodes.map((n) => n.state)).toEqual(['healthy', 'healthy']);
    const ca = readFileSync(join(tlsDir, 'ca.pem'));
    const admin = opsAdmin(dir).credentials; // /api/overview names the node to an administrator only
    const res = await httpGet(`${cluster.nodes[0].managementUrl}/api/overview`, admin, 3000, ca);
    expect([res.status, JSON.parse(res.body).node]).toEqual([200, cluster.nodes[0].erlangNode]);
    await expect(httpGet(`${cluster.nodes[0].managementUrl}/api/overview`, admin)).rejects.toMatchObject({ code: 'SELF_SIGNED_CERT_IN_CHAIN' });
  });

  it('a client that does not trust the CA fails at once with a certificate error naming RABBIT_TLS_CA', async () => {
    for (const extra of [{ rabbitTls: true }, { rabbitTlsCa: join(strangerDir, 'ca.pem') }] satisfies NetworkedOptions[]) {
      const { err, ms } = await startFails(chart('untrusting', 0, { ...extra, ...clientCert(0) }).chart);
      expect(err).toBeInstanceOf(BrokerTlsError);
      expect((err as BrokerTlsError).problem).toBe('untrusted');
      expect((err as Error).message).toMatch(/RABBIT_TLS_CA/);
      expect((err as Error).message).toMatch(/Not retried/);
      expect(ms).toBeLessThan(3000); // not the 20 s startTimeoutMs of a retried link
    }
  });

  it('with mutual TLS the broker refuses a client with no certificate or one from another CA', async () => {
    const none = await startFails(chart('no-cert', 0, trusted()).chart);
    expect(none.err).toBeInstanceOf(BrokerTlsError);
    expect((none.err as BrokerTlsError).problem).toBe('client-refused');
    expect((none.err as Error).message).toMatch(/certificate required.*RABBIT_TLS_CERT/s);
    expect(none.ms).toBeLessThan(3000);

    const wrong = await startFails(chart('wrong-cert', 0, { ...trusted(), ...clientCert(0, strangerDir) }).chart);
    expect(wrong.err).toBeInstanceOf(BrokerTlsError);
    expect((wrong.err as BrokerTlsError).problem).toBe('client-refused');
    expect((wrong.err as Error).message).toMatch(/unknown ca.*RABBIT_TLS_CERT/s);
  });

  it('the AMQP probe logs in over TLS with the CA and says why it fails without it', async () => {
    const ca = readFileSync(join(tlsDir, 'ca.pem'));
    const f = hostFiles(tlsDir, hosts[1]);
    const ok = await probeAmqp(hosts[1], { user: 'peter', password: 'rabbit', tls: { ca, cert: readFileSync(f.clientCert), key: readFileSync(f.clientKey) }, timeoutMs: 5000 });
    expect(ok).toEqual({ ok: true });
    const untrusted = await probeAmqp(hosts[1], { user: 'peter', password: 'rabbit', tls: {}, timeoutMs: 5000 });
    expect(untrusted.ok).toBe(false);
    expect(untrusted.reason).toMatch(/^TLS failed \(SELF_SIGNED_CERT_IN_CHAIN\)/);
  });

  it('delivers over the mesh with amqps:// both ways, and the URLs say amqps on 5671', async () => {
    const gotA: string[] = [];
    const gotB: string[] = [];
    const a = chart('tls-a', 0, { ...trusted(), ...clientCert(0) }).chart;
    const b = chart('tls-b', 1, { ...trusted(), ...clientCert(1) }).chart;
    await Promise.all([a.startAt(recorder(gotA) as never), b.startAt(recorder(gotB) as never)]);
    expect(a.thisUrl()).toBe(`amqps://peter:rabbit@${hosts[0]}:5671/%2F?connection_attempts=3&heartbeat_interval=10`);
    expect(a.otherUrls()).toEqual([`amqps://peter:rabbit@${hosts[1]}:5671/%2F?connection_attempts=3&heartbeat_interval=10`]);
    a.transmit(new Event('FROM_A'));
    b.transmit(new Event('FROM_B'));
    expect(await until(() => gotA.includes('FROM_B') && gotB.includes('FROM_A'), 10_000)).toBe(true);
    expect(a.networkStats().brokers.map((l) => l.state)).toEqual(['up', 'up']);
  });

  it('runs the mesh-ring and spy scenarios over TLS (the runner follows cluster.json)', async () => {
    const logsRoot = mkdtempSync(join(tmpdir(), 'miros-tls-scenarios-'));
    try {
      for (const name of ['mesh-ring', 'spy']) {
        const r = await runScript(name, ['--nodes', '2', '--dir', dir, '--tls', 'only', '--logs', logsRoot]);
        expect(r.pass, r.output).toBe(true);
        expect(r.output).toContain('2 nodes, TLS only (mutual)');
      }
    } finally {
      rmSync(logsRoot, { recursive: true, force: true });
    }
  });
});
