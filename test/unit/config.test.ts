import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { configError } from './config-error.ts';
import { amqpUrl, resolveNetConfig, type NetOptions } from '../../runtime/net/config.ts';
import { ConfigError } from '../../runtime/net/errors.ts';
import { clusterFixture } from './cluster-fixture.ts';

const KEY = 'u3Uc-qAi9iiCv3fkBfRUAKrM1gH8w51-nVU8M8A73Jg=';
const KEY2 = 'cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=';
const dir = mkdtempSync(path.join(os.tmpdir(), 'miros-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const dotenvFile = (name: string, text: string) => {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
};
const minimal: NetOptions = { rabbitUser: 'peter', rabbitPassword: 'rabbit', meshEncryptionKey: KEY };

describe('resolveNetConfig', () => {
  it('applies the defaults', () => {
    const c = resolveNetConfig(minimal, {}, { dotenvPath: false });
    expect(c).toMatchObject({
      rabbitUser: 'peter',
      rabbitPassword: 'rabbit',
      rabbitPort: 5672,
      heartbeatInterval: 10, // deliberately not the reference's 3600 (config.ts DEFAULTS)
      connectionAttempts: 3,
      meshEncryptionKey: KEY,
      snoopTraceEncryptionKey: KEY,
      snoopSpyEncryptionKey: KEY,
      txRoutingKey: 'empty',
      rxRoutingKey: 'empty',
      hosts: [],
      arp: false,
      hostsFileRequired: false,
      cacheMaxAgeMinutes: 30,
    });
    expect(c.hostsFile).toBe(path.resolve('.miros_rabbitmq_hosts.json'));
    expect(c.cacheFile).toBe(path.resolve('.miros_rabbitmq_lan_cache.json'));
    expect(c.startTimeoutMs).toBeGreaterThan(0);
    expect(c.outboxBound).toBeGreaterThan(0);
    expect(c.sources).toMatchObject({ rabbitUser: 'option', rabbitPort: 'default', snoopSpyEncryptionKey: 'default' });
  });

  it('rx routing key defaults to tx', () => {
    expect(resolveNetConfig({ ...minimal, txRoutingKey: 'heya.man' }, {}, { dotenvPath: false }).rxRoutingKey).toBe('heya.man');
    const c = resolveNetConfig({ ...minimal, txRoutingKey: 'heya.man', rxRoutingKey: '#.man' }, {}, { dotenvPath: false });
    expect([c.txRoutingKey, c.rxRoutingKey]).toEqual(['heya.man', '#.man']);
  });

  it('options win over the environment, which wins over .env; process.env is untouched', () => {
    const p = dotenvFile(
      'a.env',
      [`MESH_ENCRYPTION_KEY=${KEY}`, 'RABBIT_USER=bob', 'RABBIT_PASSWORD=dobbs', 'RABBIT_PORT=5673', 'RABBIT_HEARTBEAT_INTERVAL=60', 'CONNECTION_ATTEMPTS=5', `SNOOP_SPY_ENCRYPTION_KEY=${KEY2}`].join('\n'),
    );
    const before = { ...process.env };
    const fromFile = resolveNetConfig({}, {}, { dotenvPath: p });
    expect(fromFile).toMatchObject({ rabbitUser: 'bob', rabbitPassword: 'dobbs', rabbitPort: 5673, heartbeatInterval: 60, connectionAttempts: 5 });
    expect(fromFile.snoopSpyEncryptionKey).toBe(KEY2);
    expect(fromFile.snoopTraceEncryptionKey).toBe(KEY);
    expect(fromFile.sources.rabbitUser).toBe('dotenv');
    expect(process.env).toEqual(before);

    const fromEnv = resolveNetConfig({}, { RABBIT_USER: 'env-user', RABBIT_PORT: '5674', RABBIT_PASSWORD: '' }, { dotenvPath: p });
    expect(fromEnv).toMatchObject({ rabbitUser: 'env-user', rabbitPassword: 'dobbs', rabbitPort: 5674 });
    expect(fromEnv.sources).toMatchObject({ rabbitUser: 'env', rabbitPassword: 'dotenv' });

    const fromOptions = resolveNetConfig({ rabbitUser: 'opt', rabbitPort: 5675, snoopSpyEncryptionKey: KEY }, { RABBIT_USER: 'env-user' }, { dotenvPath: p });
    expect(fromOptions).toMatchObject({ rabbitUser: 'opt', rabbitPort: 5675, snoopSpyEncryptionKey: KEY });
  });

  it('reads .env from the working directory by default and skips it when absent', () => {
    const sub = mkdtempSync(path.join(dir, 'cwd-'));
    expect(() => resolveNetConfig({}, {}, { cwd: sub })).toThrow(ConfigError);
    writeFileSync(path.join(sub, '.env'), `RABBIT_USER=bob\nRABBIT_PASSWORD=dobbs\nMESH_ENCRYPTION_KEY=${KEY}\n`);
    const c = resolveNetConfig({ hostsFile: 'h.json' }, {}, { cwd: sub });
    expect(c.rabbitUser).toBe('bob');
    expect(c.hostsFile).toBe(path.join(sub, 'h.json'));
    expect(c.cacheFile).toBe(path.join(sub, '.miros_rabbitmq_lan_cache.json'));
  });

  it('an explicit .env path that does not exist is an error', () => {
    expect(() => resolveNetConfig(minimal, {}, { dotenvPath: path.join(dir, 'nope.env') })).toThrow(/not found/);
  });

  it('names the option and the variable of a missing value', () => {
    const user = configError(() => resolveNetConfig({ rabbitPassword: 'x', meshEncryptionKey: KEY }, {}, { dotenvPath: false }));
    expect(user.code).toBe('CONFIG');
    expect(user.variable).toBe('RABBIT_USER');
    expect(user.option).toBe('rabbitUser');
    expect(user.message).toMatch(/rabbitUser.*RABBIT_USER/);
    const pass = configError(() => resolveNetConfig({ rabbitUser: 'x', meshEncryptionKey: KEY }, {}, { dotenvPath: false }));
    expect(pass.message).toMatch(/rabbitPassword.*RABBIT_PASSWORD/);
    const key = configError(() => resolveNetConfig({ rabbitUser: 'x', rabbitPassword: 'y' }, {}, { dotenvPath: false }));
    expect(key.message).toMatch(/meshEncryptionKey.*MESH_ENCRYPTION_KEY/);
  });

  it('reports a malformed number by name', () => {
    for (const [variable, value] of [['RABBIT_PORT', '56x'], ['RABBIT_PORT', '70000'], ['RABBIT_HEARTBEAT_INTERVAL', '-1'], ['CONNECTION_ATTEMPTS', '0'], ['CONNECTION_ATTEMPTS', '2.5']]) {
      const err = configError(() => resolveNetConfig(minimal, { [variable]: value }, { dotenvPath: false }));
      expect(err.variable).toBe(variable);
      expect(err.message).toContain(variable);
      expect(err.message).toContain(JSON.stringify(value));
    }
    const opt = configError(() => resolveNetConfig({ ...minimal, rabbitPort: Number.NaN }, {}, { dotenvPath: false }));
    expect(opt.message).toMatch(/^rabbitPort must be/);
  });

  it('says a bad key is not a Fernet key, by name, without echoing it', () => {
    const secret = 'definitely-not-a-key';
    const env = configError(() => resolveNetConfig({ rabbitUser: 'a', rabbitPassword: 'b' }, { MESH_ENCRYPTION_KEY: secret }, { dotenvPath: false }));
    expect(env.message).toMatch(/^MESH_ENCRYPTION_KEY is not a 32-byte url-safe base64 Fernet key/);
    expect(env.message).not.toContain(secret);
    const spy = configError(() => resolveNetConfig(minimal, { SNOOP_SPY_ENCRYPTION_KEY: 'abc' }, { dotenvPath: false }));
    expect(spy.message).toMatch(/^SNOOP_SPY_ENCRYPTION_KEY is not a 32-byte url-safe base64 Fernet key/);
    const opt = configError(() => resolveNetConfig({ ...minimal, snoopTraceEncryptionKey: 'abc' }, {}, { dotenvPath: false }));
    expect(opt.message).toMatch(/^snoopTraceEncryptionKey is not a 32-byte url-safe base64 Fernet key/);
    expect(opt.variable).toBe('SNOOP_TRACE_ENCRYPTION_KEY');
  });

  it('accepts keys as Python-style bytes and unpadded text, normalising them', () => {
    expect(resolveNetConfig({ ...minimal, meshEncryptionKey: Buffer.from(KEY) }, {}, { dotenvPath: false }).meshEncryptionKey).toBe(KEY);
    expect(resolveNetConfig({ ...minimal, meshEncryptionKey: KEY.slice(0, -1) }, {}, { dotenvPath: false }).meshEncryptionKey).toBe(KEY);
  });

  it('resolves discovery options', () => {
    const c = resolveNetConfig(
      { ...minimal, hosts: [' 127.0.0.11 ', '127.0.0.12'], hostsFile: 'h.json', clusterFile: '.cluster/cluster.json', thisAddress: '127.0.0.11', arp: true, cacheMaxAgeMinutes: 5, outboxBound: 10 },
      {},
      { dotenvPath: false },
    );
    expect(c).toMatchObject({ hosts: ['127.0.0.11', '127.0.0.12'], hostsFileRequired: true, thisAddress: '127.0.0.11', arp: true, cacheMaxAgeMinutes: 5, outboxBound: 10 });
    expect(c.hostsFile).toBe(path.resolve('h.json'));
    expect(c.clusterFile).toBe(path.resolve('.cluster/cluster.json'));
    expect(() => resolveNetConfig({ ...minimal, hosts: [''] }, {}, { dotenvPath: false })).toThrow(ConfigError);
    expect(() => resolveNetConfig({ ...minimal, outboxBound: 0 }, {}, { dotenvPath: false })).toThrow(/outboxBound/);
    expect(resolveNetConfig(minimal, {}, { dotenvPath: false }).queueExpiresMs).toBe(600_000);
    expect(resolveNetConfig({ ...minimal, queueExpiresMs: 60_000 }, {}, { dotenvPath: false }).queueExpiresMs).toBe(60_000);
    expect(() => resolveNetConfig({ ...minimal, queueExpiresMs: 10 }, {}, { dotenvPath: false })).toThrow(/queueExpiresMs must be an integer ≥ 1000/);
  });
});

describe('the heartbeat default', () => {
  it('is 10 s; an explicit option, RABBIT_HEARTBEAT_INTERVAL or .env still wins', () => {
    expect(resolveNetConfig(minimal, {}, { dotenvPath: false })).toMatchObject({ heartbeatInterval: 10, sources: { heartbeatInterval: 'default' } });
    expect(resolveNetConfig({ ...minimal, heartbeatInterval: 3600 }, { RABBIT_HEARTBEAT_INTERVAL: '60' }, { dotenvPath: false }).heartbeatInterval).toBe(3600);
    expect(resolveNetConfig(minimal, { RABBIT_HEARTBEAT_INTERVAL: '3600' }, { dotenvPath: false })).toMatchObject({ heartbeatInterval: 3600, sources: { heartbeatInterval: 'env' } });
    expect(resolveNetConfig({ ...minimal, heartbeatInterval: 0 }, {}, { dotenvPath: false }).heartbeatInterval).toBe(0);
  });
});

describe('amqpUrl', () => {
  const cfg = { rabbitUser: 'peter', rabbitPassword: 'rabbit', rabbitPort: 5672, connectionAttempts: 3, heartbeatInterval: 10 };
  it('has the reference format', () => {
    expect(amqpUrl(cfg, '192.168.1.75')).toBe('amqp://peter:rabbit@192.168.1.75:5672/%2F?connection_attempts=3&heartbeat_interval=10');
  });
  it('URL-encodes user and password, and masks on request', () => {
    const odd = { ...cfg, rabbitUser: 'a@b', rabbitPassword: 'p:w/@#?' };
    const url = amqpUrl(odd, '127.0.0.11');
    expect(url).toBe('amqp://a%40b:p%3Aw%2F%40%23%3F@127.0.0.11:5672/%2F?connection_attempts=3&heartbeat_interval=10');
    const u = new URL(url);
    expect(decodeURIComponent(u.password)).toBe('p:w/@#?');
    expect(amqpUrl(odd, '127.0.0.11', { maskPassword: true })).toBe('amqp://a%40b:***@127.0.0.11:5672/%2F?connection_attempts=3&heartbeat_interval=10');
  });
  it('brackets IPv6 hosts', () => {
    expect(amqpUrl(cfg, '::1')).toContain('@[::1]:5672/');
  });
  it('has no query without connection attempts and heartbeat (the URLs of cluster.json)', () => {
    const { connectionAttempts: _a, heartbeatInterval: _h, ...bare } = cfg;
    expect(amqpUrl(bare, '127.0.0.11')).toBe('amqp://peter:rabbit@127.0.0.11:5672/%2F');
  });
});

describe('resolveNetConfig for a snoop-only listener (meshKeyRequired: false)', () => {
  const creds = { rabbitUser: 'peter', rabbitPassword: 'rabbit' };
  const resolve = (options: NetOptions, env: NodeJS.ProcessEnv = {}) => resolveNetConfig(options, env, { dotenvPath: false, meshKeyRequired: false });

  it('needs no mesh key when a snoop key is set; each snoop key falls back to the other', () => {
    expect(resolve({ ...creds, snoopTraceEncryptionKey: KEY })).toMatchObject({ snoopTraceEncryptionKey: KEY, snoopSpyEncryptionKey: KEY });
    expect(resolve(creds, { SNOOP_TRACE_ENCRYPTION_KEY: KEY, SNOOP_SPY_ENCRYPTION_KEY: KEY2 })).toMatchObject({ snoopTraceEncryptionKey: KEY, snoopSpyEncryptionKey: KEY2 });
  });

  it('still falls back to the mesh key, and still wants some key', () => {
    expect(resolve({ ...creds, meshEncryptionKey: KEY2, snoopTraceEncryptionKey: KEY })).toMatchObject({ snoopTraceEncryptionKey: KEY, snoopSpyEncryptionKey: KEY2 });
    expect(configError(() => resolve(creds)).message).toMatch(/meshEncryptionKey is missing/);
  });

  it('a chart (the default) still requires the mesh key', () => {
    expect(configError(() => resolveNetConfig({ ...creds, snoopTraceEncryptionKey: KEY }, {}, { dotenvPath: false })).message).toMatch(/meshEncryptionKey is missing/);
  });
});

describe('topology and messageTtl', () => {
  const clusterFile = (topology: 'mesh' | 'clustered') => {
    const file = clusterFixture(['10.0.0.1', '10.0.0.2', '10.0.0.3']);
    const data =
      topology === 'mesh'
        ? file
        : { ...file, topology, cluster: { members: ['n1@localhost', 'n2@localhost', 'n3@localhost'], partitionHandling: 'pause_minority', netTicktime: 10 } };
    return dotenvFile(`cluster-${topology}.json`, JSON.stringify(data));
  };

  it('default to the mesh and the reference 50 s; an option, MIROS_TOPOLOGY / MIROS_MESSAGE_TTL_MS or .env win', () => {
    expect(resolveNetConfig(minimal, {}, { dotenvPath: false })).toMatchObject({ topology: 'mesh', messageTtl: 50_000 });
    expect(resolveNetConfig({ ...minimal, topology: 'clustered', messageTtl: 1000 }, {}, { dotenvPath: false })).toMatchObject({ topology: 'clustered', messageTtl: 1000 });
    expect(resolveNetConfig(minimal, { MIROS_TOPOLOGY: 'clustered', MIROS_MESSAGE_TTL_MS: '2500' }, { dotenvPath: false })).toMatchObject({
      topology: 'clustered',
      messageTtl: 2500,
    });
    const env = dotenvFile('topology.env', 'MIROS_TOPOLOGY=clustered\n');
    expect(resolveNetConfig(minimal, {}, { dotenvPath: env }).topology).toBe('clustered');
  });

  it('take the topology from the cluster file when nothing says otherwise', () => {
    expect(resolveNetConfig({ ...minimal, clusterFile: clusterFile('clustered') }, {}, { dotenvPath: false }).topology).toBe('clustered');
    expect(resolveNetConfig({ ...minimal, clusterFile: clusterFile('mesh') }, {}, { dotenvPath: false }).topology).toBe('mesh');
  });

  it('refuse a topology that contradicts the cluster file, and a bad value, naming the variable', () => {
    const e = configError(() => resolveNetConfig({ ...minimal, clusterFile: clusterFile('mesh') }, { MIROS_TOPOLOGY: 'clustered' }, { dotenvPath: false }));
    expect(e.message).toMatch(/MIROS_TOPOLOGY is 'clustered' but the cluster file .* describes a 'mesh' cluster/);
    expect(configError(() => resolveNetConfig(minimal, { MIROS_TOPOLOGY: 'star' }, { dotenvPath: false })).message).toMatch(/MIROS_TOPOLOGY must be 'mesh' or 'clustered', got "star"/);
    expect(configError(() => resolveNetConfig(minimal, { MIROS_MESSAGE_TTL_MS: '0' }, { dotenvPath: false })).message).toMatch(/MIROS_MESSAGE_TTL_MS must be an integer/);
  });
});
