// Issue 26 on real RabbitMQ nodes: least privilege for the app user, the ops admin, the
// message size limit and mutual TLS with no plain listener. Two isolated 1-node clusters
// (127.0.9.11 nodes bs1, 127.0.9.21 node bm1 with --tls on --tls-mutual; epmd 4387 and 4389;
// temp dirs): the shared cluster of the other integration tests is never touched.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, type Channel } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { down, up, type StartedCluster } from '../../ops/cluster/index.ts';
import { ADMIN_FILE, opsAdmin } from '../../ops/cluster/admin.ts';
import { httpGet, tcpProbe } from '../../ops/cluster/health.ts';
import { hostFiles } from '../../ops/tls/certificates.ts';
import { generateKey } from '../../runtime/index.ts';
import { REPO_ROOT } from '../../ops/cluster/options.ts';
import { isolatedOptions } from './cluster-helpers.ts';

const plain = isolatedOptions({ nodes: 1, addressBase: '127.0.9.11', namePrefix: 'bs', distPortBase: 26500, epmdPort: 4387 });
const mutual = isolatedOptions({ nodes: 1, addressBase: '127.0.9.21', namePrefix: 'bm', distPortBase: 26520, epmdPort: 4389, tls: 'on', tlsMutual: true });
const peter = { user: 'peter', password: 'rabbit' };
const MiB = 1024 * 1024;
let a: StartedCluster;
let m: StartedCluster;

/** The reason a channel closes (its 'error' event), or 'open' after `ms`. */
function closeReason(ch: Channel, ms = 5000): Promise<string> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve('open'), ms);
    ch.once('error', (err: Error) => (clearTimeout(timer), resolve(err.message)));
  });
}

beforeAll(async () => {
  [a, m] = await Promise.all([up(plain), up(mutual)]);
}, 180_000);

afterAll(async () => {
  for (const o of [plain, mutual]) {
    await down({ dir: o.dir }).catch(() => undefined);
    rmSync(o.dir!, { recursive: true, force: true });
  }
}, 60_000);

describe('broker security: least privilege, the ops admin, the message size limit', { timeout: 60_000 }, () => {
  it('peter has the management tag only; the ops admin is an administrator and its password is 0600 in the cluster dir', async () => {
    const url = a.nodes[0].managementUrl;
    const me = await httpGet(`${url}/api/whoami`, peter);
    expect(me.status).toBe(200);
    expect(JSON.parse(me.body)).toEqual({ name: 'peter', tags: ['management'] });
    expect((await httpGet(`${url}/api/users`, peter)).status).not.toBe(200); // administrators only
    const admin = opsAdmin(plain.dir);
    expect(admin.credentials.user).not.toBe('peter');
    expect(JSON.parse((await admin.get(1, '/api/whoami')).body)).toEqual({ name: admin.credentials.user, tags: ['administrator'] });
    expect(statSync(join(plain.dir!, ADMIN_FILE)).mode & 0o777).toBe(0o600);
    expect(statSync(join(plain.dir!, 'bs1', 'definitions.json')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(plain.dir!, 'bs1', 'definitions.json'), 'utf8')).not.toContain(admin.credentials.password);
    const perms = JSON.parse((await admin.get('bs1', '/api/users/peter/permissions')).body) as { configure: string; write: string; read: string }[];
    expect(perms).toEqual([expect.objectContaining({ vhost: '/', configure: '^(miros\\.|amq\\.gen-)', write: '^(miros\\.|amq\\.gen-)', read: '^(miros\\.|amq\\.gen-)' })]);
  });

  it('peter declares miros.* and server-named queues, but no queue outside its pattern', async () => {
    const conn = await connect(a.urls()[0]);
    try {
      const ch = await conn.createChannel();
      expect((await ch.assertQueue('miros.bs.allowed', { exclusive: true })).queue).toBe('miros.bs.allowed');
      expect((await ch.assertQueue('', { exclusive: true })).queue).toMatch(/^amq\.gen-/);
      const refused = await conn.createChannel();
      const reason = closeReason(refused);
      await expect(refused.assertQueue('app.elsewhere', { exclusive: true })).rejects.toThrow(/ACCESS_REFUSED/);
      expect(await reason).toMatch(/403.*ACCESS_REFUSED - access to queue 'app\.elsewhere' in vhost '\/' refused for user 'peter'/);
    } finally {
      await conn.close();
    }
  });

  it('accepts a 512 KiB publish and refuses a 2 MiB one (channel closed with 406, the connection stays)', async () => {
    const conn = await connect(a.urls()[0]);
    try {
      const ch = await conn.createConfirmChannel();
      await ch.assertExchange('miros.bs.size', 'fanout', { durable: false, autoDelete: false });
      ch.publish('miros.bs.size', '', Buffer.alloc(MiB / 2));
      await ch.waitForConfirms();
      const reason = closeReason(ch);
      ch.publish('miros.bs.size', '', Buffer.alloc(2 * MiB), {}, () => undefined);
      expect(await reason).toMatch(/406.*PRECONDITION_FAILED.*larger than configured max size 1048576/);
      const again = await conn.createChannel(); // the connection is still there
      await again.checkExchange('miros.bs.size');
    } finally {
      await conn.close();
    }
  });
});

describe('broker security: mutual TLS leaves no plain AMQP port', { timeout: 60_000 }, () => {
  it('5672 is closed and 5671 refuses a client without a certificate; with one it logs in', async () => {
    const host = m.nodes[0].host;
    expect(await tcpProbe(host, 5672)).toBe('ECONNREFUSED');
    const ca = readFileSync(join(mutual.dir!, 'tls', 'ca.pem'));
    const url = `amqps://peter:rabbit@${host}:5671/%2F`;
    await expect(connect(url, { ca: [ca], servername: host, timeout: 5000 })).rejects.toThrow(/certificate required|handshake|socket hang up|ECONNRESET/i);
    const f = hostFiles(join(mutual.dir!, 'tls'), host);
    const conn = await connect(url, { ca: [ca], cert: readFileSync(f.clientCert), key: readFileSync(f.clientKey), servername: host, timeout: 5000 });
    await conn.close();
  });
});

describe('broker security: secrets off argv', { timeout: 120_000 }, () => {
  it('ps shows neither the password nor the keys while snoop runs with --password-file and --keys-file', async () => {
    const admin = opsAdmin(plain.dir).credentials; // a password no other process has on its command line
    const keys = [generateKey(), generateKey()];
    const pw = join(plain.dir!, 'snoop-password');
    const kf = join(plain.dir!, 'snoop-keys');
    writeFileSync(pw, admin.password + '\n', { mode: 0o600 });
    writeFileSync(kf, keys.join(',') + '\n', { mode: 0o600 });
    const child = spawn(process.execPath, [join(REPO_ROOT, 'bin/mirosnet.mjs'), 'snoop', '--dir', plain.dir!, '--user', admin.user, '--password-file', pw, '--keys-file', kf], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, RABBIT_PASSWORD: '', SNOOP_TRACE_ENCRYPTION_KEY: '', SNOOP_SPY_ENCRYPTION_KEY: '' },
    });
    let stderr = '';
    try {
      // listening = it logged in with the password from the file and decrypts with the keys from the other
      await new Promise<void>((resolve, reject) => {
        child.stderr!.on('data', (c: Buffer) => {
          stderr += c.toString();
          if (stderr.includes('snoop: listening on')) resolve();
        });
        child.once('exit', (code) => reject(new Error(`snoop exited (${code}) before listening: ${stderr}`)));
      });
      const ps = spawnSync('ps', ['-eo', 'pid,args', '--no-headers'], { encoding: 'utf8' }).stdout;
      expect(ps).toContain(`--password-file ${pw}`); // our snoop is in the list
      expect(ps).not.toContain(admin.password);
      for (const k of keys) expect(ps).not.toContain(k);
      expect(stderr).not.toMatch(/warning:/);
    } finally {
      child.kill('SIGTERM');
      await new Promise((done) => (child.exitCode !== null ? done(undefined) : child.once('exit', done)));
    }
  });
});
