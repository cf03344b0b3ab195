// TLS without a broker: the settings (options, env), which errors are TLS failures and that
// they are permanent, the certificates `mirosnet tls init` makes (with the system openssl),
// the broker config rabbit.ts writes, and cluster.json's `tls` field.
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configError } from './config-error.ts';
import { writeClusterFile } from '../../ops/cluster/cluster-file.ts';
import { CREDENTIALS, clusterNode, clusterTls, nodeSpec, resolveOptions } from '../../ops/cluster/options.ts';
import { presets } from '../../ops/cluster/presets.ts';
import { writeNodeConfig } from '../../ops/cluster/rabbit.ts';
import { hostFiles, initTls } from '../../ops/tls/certificates.ts';
import { parseClusterFile, readClusterFile } from '../../runtime/lan/cluster-file.ts';
import { amqpUrl, resolveNetConfig, type NetOptions } from '../../runtime/net/config.ts';
import { classifyError } from '../../runtime/net/retry.ts';
import { brokerTlsError, tlsProblem, tlsReason } from '../../runtime/net/tls.ts';

const KEY = 'u3Uc-qAi9iiCv3fkBfRUAKrM1gH8w51-nVU8M8A73Jg=';
const dir = mkdtempSync(path.join(os.tmpdir(), 'miros-tls-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const minimal: NetOptions = { rabbitUser: 'peter', rabbitPassword: 'rabbit', meshEncryptionKey: KEY };
const hasOpenssl = spawnSync('openssl', ['version']).status === 0;
const tlsDir = path.join(dir, 'tls');


describe.skipIf(!hasOpenssl)('TLS (needs the system openssl: not installed here)', () => {
  beforeAll(async () => {
    await initTls({ dir: tlsDir, hosts: ['127.0.6.11', 'broker.example'], log: () => undefined });
  }, 60_000);

  describe('mirosnet tls init (initTls)', () => {
    it('makes a CA and, per host, a server and a client certificate that name the host, keys 0600', () => {
      const ca = new X509Certificate(readFileSync(path.join(tlsDir, 'ca.pem')));
      expect(ca.ca).toBe(true);
      expect(statSync(path.join(tlsDir, 'ca.key')).mode & 0o777).toBe(0o600);
      for (const host of ['127.0.6.11', 'broker.example']) {
        const f = hostFiles(tlsDir, host);
        for (const [cert, keyFile, usage] of [
          [f.serverCert, f.serverKey, '1.3.6.1.5.5.7.3.1'], // serverAuth
          [f.clientCert, f.clientKey, '1.3.6.1.5.5.7.3.2'], // clientAuth
        ]) {
          const x = new X509Certificate(readFileSync(cert));
          expect(x.checkIssued(ca) && x.verify(ca.publicKey)).toBe(true);
          expect(x.ca).toBe(false);
          expect(x.keyUsage).toEqual([usage]);
          expect(host.startsWith('127') ? x.checkIP(host) : x.checkHost(host)).toBe(host);
          expect(statSync(keyFile).mode & 0o777).toBe(0o600);
          expect(statSync(cert).mode & 0o777).toBe(0o644);
        }
      }
    });

    it('is idempotent: a second run keeps everything, a new host adds only its two certificates', async () => {
      const before = readFileSync(hostFiles(tlsDir, '127.0.6.11').serverCert, 'utf8');
      expect((await initTls({ dir: tlsDir, hosts: ['127.0.6.11'], log: () => undefined })).made).toEqual([]);
      const added = await initTls({ dir: tlsDir, hosts: ['127.0.6.11', '127.0.6.12'], log: () => undefined });
      expect(added.made).toEqual([hostFiles(tlsDir, '127.0.6.12').serverCert, hostFiles(tlsDir, '127.0.6.12').clientCert]);
      expect(readFileSync(hostFiles(tlsDir, '127.0.6.11').serverCert, 'utf8')).toBe(before);
    }, 30_000);
  });

  describe('settings (resolveNetConfig)', () => {
    const ca = () => path.join(tlsDir, 'ca.pem');
    it('RABBIT_TLS_CA turns TLS on: amqps:// on 5671 with the CA, verified', () => {
      const c = resolveNetConfig(minimal, { RABBIT_TLS_CA: ca() }, { dotenvPath: false });
      expect(c.rabbitPort).toBe(5671);
      expect(c.tls?.caFile).toBe(ca());
      expect(c.tls?.socket).toMatchObject({ rejectUnauthorized: true, ca: readFileSync(ca()) });
      expect(amqpUrl(c, '10.0.0.5')).toBe('amqps://peter:rabbit@10.0.0.5:5671/%2F?connection_attempts=3&heartbeat_interval=10');
    });

    it('off by default; RABBIT_TLS=on alone uses the system CAs; RABBIT_TLS=off wins over a CA; RABBIT_PORT wins over 5671', () => {
      expect(resolveNetConfig(minimal, {}, { dotenvPath: false }).tls).toBeUndefined();
      const system = resolveNetConfig(minimal, { RABBIT_TLS: 'on' }, { dotenvPath: false });
      expect(system.tls).toEqual({ socket: { rejectUnauthorized: true } });
      expect(resolveNetConfig(minimal, { RABBIT_TLS: 'off', RABBIT_TLS_CA: ca() }, { dotenvPath: false }).tls).toBeUndefined();
      expect(resolveNetConfig({ ...minimal, rabbitTlsCa: ca(), rabbitPort: 15000 }, {}, { dotenvPath: false }).rabbitPort).toBe(15000);
    });

    it('reads the settings from a .env file, paths relative to the working directory', () => {
      writeFileSync(path.join(dir, '.env'), 'RABBIT_TLS=on\nRABBIT_TLS_CA=tls/ca.pem\nRABBIT_TLS_CERT=tls/hosts/127.0.6.11/client.pem\nRABBIT_TLS_KEY=tls/hosts/127.0.6.11/client.key\n');
      const c = resolveNetConfig(minimal, {}, { cwd: dir });
      expect([c.tls?.caFile, c.tls?.certFile, c.tls?.keyFile]).toEqual([ca(), hostFiles(tlsDir, '127.0.6.11').clientCert, hostFiles(tlsDir, '127.0.6.11').clientKey]);
      expect(c.tls?.socket.cert).toBeInstanceOf(Buffer);
    });

    it('refuses a missing file, a file that is no certificate, a certificate without its key, and an unknown RABBIT_TLS', () => {
      const missing = configError(() => resolveNetConfig(minimal, { RABBIT_TLS_CA: path.join(dir, 'nope.pem') }, { dotenvPath: false }));
      expect(missing.variable).toBe('RABBIT_TLS_CA');
      expect(missing.message).toMatch(/RABBIT_TLS_CA: cannot read .*nope\.pem \(from environment\): ENOENT/);
      const notPem = configError(() => resolveNetConfig({ ...minimal, rabbitTlsCa: hostFiles(tlsDir, '127.0.6.11').clientKey }, {}, { dotenvPath: false }));
      expect(notPem.message).toMatch(/rabbitTlsCa: .* is not a PEM certificate/);
      const half = configError(() => resolveNetConfig({ ...minimal, rabbitTlsCert: hostFiles(tlsDir, '127.0.6.11').clientCert }, {}, { dotenvPath: false }));
      expect(half.message).toMatch(/rabbitTlsCert is set but RABBIT_TLS_KEY \(rabbitTlsKey\) is not/);
      expect(configError(() => resolveNetConfig(minimal, { RABBIT_TLS: 'maybe' }, { dotenvPath: false })).message).toMatch(/RABBIT_TLS must be on or off, got "maybe"/);
    });
  });

  describe('the testbed broker config (rabbit.ts) and cluster.json', () => {
    const optsFor = (tls: 'on' | 'only', mutual: boolean) => resolveOptions({ dir: path.join(dir, `c-${tls}`), nodes: 1, tls, tlsMutual: mutual, tlsDir, log: () => undefined });

    it('--tls only: a TLS listener instead of 5672, the management API on https 15671, peers verified with mutual TLS', () => {
      const o = optsFor('only', true);
      const spec = nodeSpec(o, 1);
      writeNodeConfig(spec, presets.mirosnetNode(o, spec), o.dir);
      const config = readFileSync(path.join(spec.nodeDir, 'rabbitmq.config'), 'utf8');
      expect(config).toContain('{tcp_listeners, []}');
      expect(config).toContain(`{ssl_listeners, [{"${spec.host}", 5671}]}`);
      expect(config).toContain(`{certfile, "${hostFiles(tlsDir, spec.host).serverCert}"}`);
      expect(config).toContain('{verify, verify_peer}, {fail_if_no_peer_cert, true}');
      expect(config).toMatch(/\{rabbitmq_management, \[\{ssl_config, \[\{ip, "127\.0\.0\.11"\}, \{port, 15671\}, \{cacertfile/);
    });

    it('--tls on keeps 5672 and the management API on http; cluster.json says amqps on 5671 and records tls', () => {
      const o = optsFor('on', false);
      const spec = nodeSpec(o, 1);
      writeNodeConfig(spec, presets.mirosnetNode(o, spec), o.dir);
      const config = readFileSync(path.join(spec.nodeDir, 'rabbitmq.config'), 'utf8');
      expect(config).toContain(`{tcp_listeners, [{"${spec.host}", 5672}]}`);
      expect(config).toContain('{verify, verify_none}');
      expect(config).toContain(`{tcp_config, [{ip, "${spec.host}"}, {port, 15672}]}`);
      const written = writeClusterFile(o.dir, { backend: 'local', createdAt: '2026-01-01T00:00:00.000Z', credentials: { ...CREDENTIALS }, tls: clusterTls(o), nodes: [clusterNode(spec, 42, o.tls)] });
      expect(readClusterFile(path.join(o.dir, 'cluster.json'))).toEqual(written);
      expect(written.tls).toEqual({ mode: 'on', caFile: path.join(tlsDir, 'ca.pem'), dir: tlsDir, mutual: false });
      expect(written.nodes[0]).toMatchObject({ amqpPort: 5671, amqpUrl: 'amqps://peter:rabbit@127.0.0.11:5671/%2F', managementUrl: 'http://127.0.0.11:15672' });
      expect(() => parseClusterFile({ ...written, tls: { ...written.tls, mode: 'sometimes' } }, 'x.json')).toThrow(/tls\.mode must be one of on, only/);
    });
  });
});

describe('TLS failures are their own class, retried and reported (retry.ts classifyError)', () => {
  const tlsErr = (code: string, reason?: string) => Object.assign(new Error(`openssl said ${reason ?? code}`), { code, ...(reason ? { reason } : {}) });

  it('an untrusted broker certificate, a refused client certificate and a plain port are TLS problems, wrapped or not', () => {
    expect(tlsProblem(tlsErr('SELF_SIGNED_CERT_IN_CHAIN'))).toBe('untrusted');
    expect(tlsProblem(tlsErr('ERR_TLS_CERT_ALTNAME_INVALID'))).toBe('untrusted');
    expect(tlsProblem(new Error('wrapped', { cause: tlsErr('UNABLE_TO_VERIFY_LEAF_SIGNATURE') }))).toBe('untrusted');
    expect(tlsProblem(tlsErr('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED'))).toBe('client-refused');
    expect(tlsProblem(tlsErr('ERR_SSL_TLSV1_ALERT_UNKNOWN_CA'))).toBe('client-refused');
    expect(tlsProblem(tlsErr('ERR_SSL_WRONG_VERSION_NUMBER'))).toBe('not-tls');
    expect(tlsProblem(tlsErr('ECONNREFUSED'))).toBeUndefined();
    expect(classifyError(tlsErr('CERT_HAS_EXPIRED'))).toBe('tls');
    expect(classifyError(new Error('x', { cause: tlsErr('ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE') }))).toBe('tls');
    expect(classifyError(tlsErr('ECONNRESET'))).toBe('transient');
  });

  it("startAt's error names the CA setting and file, and OpenSSL's reason rather than its whole line", () => {
    const err = brokerTlsError('c1', 'amqps://peter:rabbit@10.0.0.5:5671/%2F', tlsErr('SELF_SIGNED_CERT_IN_CHAIN'), { caFile: '/etc/miros/ca.pem' });
    expect(err?.message).toMatch(/^chart c1: TLS with broker amqps:\/\/peter:\*\*\*@10\.0\.0\.5:5671\/%2F failed \(openssl said SELF_SIGNED_CERT_IN_CHAIN\): its certificate is not signed by the CA in \/etc\/miros\/ca\.pem \(RABBIT_TLS_CA \/ rabbitTlsCa\)/);
    expect(err?.url).not.toContain('rabbit@');
    expect(tlsReason(tlsErr('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', 'tlsv13 alert certificate required'))).toBe('tlsv13 alert certificate required');
    expect(brokerTlsError('c1', 'amqps://h', tlsErr('ECONNREFUSED'), undefined)).toBeUndefined();
  });
});
