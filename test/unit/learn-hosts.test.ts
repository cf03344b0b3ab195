// Hosts named by messages (brokers.ts learnFrom, host-allowlist.ts): a mesh message links to
// its host only inside learnHostsFrom; a trace message never does. MirosNets with fake brokers
// (fake-amqp.ts): a link shows up as a connection attempt to the host.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { envelopePlaintext } from '../../runtime/net/envelope.ts';
import { Fernet, generateKey } from '../../runtime/net/fernet.ts';
import { MirosNets, type ChartPort } from '../../runtime/net/miros-nets.ts';
import { SENDER_HEADER, SNOOP_ROUTING_KEYS, SNOOP_SIGNALS } from '../../runtime/net/topology.ts';
import { fakeBrokers, idleChartPort } from './fake-amqp.ts';

vi.mock('../../runtime/net/connection.ts', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../runtime/net/connection.ts')>()),
  openRecovering: (await import('./fake-amqp.ts')).fakeOpenRecovering,
}));
vi.mock('../../runtime/lan/index.ts', async () => (await import('./fake-amqp.ts')).fakeLan(() => ['127.0.0.1']));

const MESH = generateKey();
const TRACE = generateKey();

const chart = idleChartPort();

function message(key: string, host: string, net: 'mesh' | 'trace', rk: string, signal: string, payload: unknown): Buffer {
  return new Fernet(key).encryptToBuffer(envelopePlaintext({ sender: 'other', host, seq: 1, ts: Date.now(), signal, payload, net, rk }));
}

beforeEach(() => {
  fakeBrokers.reset();
  fakeBrokers.autoConnect = (url) => new URL(url).hostname === '127.0.0.1';
});
afterEach(() => fakeBrokers.reset());

describe('MirosNets: hosts named by messages', () => {
  it('links to a mesh message host inside learnHostsFrom only, and never to a trace message host', async () => {
    const warnings: string[] = [];
    const lines: string[] = [];
    const nets = new MirosNets(chart, {
      rabbitUser: 'u',
      rabbitPassword: 'p',
      meshEncryptionKey: MESH,
      snoopTraceEncryptionKey: TRACE,
      txRoutingKey: 'k',
      thisAddress: '127.0.0.1',
      learnHostsFrom: ['10.9.0.0/16'],
      startTimeoutMs: 2000,
      rediscoverIntervalMs: 0,
      onWarning: (m) => warnings.push(m),
      output: (line) => lines.push(line),
    });
    nets.enableSnoop('trace', 'plain');
    await nets.start(() => undefined);
    const consuming = fakeBrokers.to('127.0.0.1').map((c) => c.current!).find((m) => m.channels.some((ch) => ch.consumers.length > 0))!;
    const ch = consuming.channel({ consuming: 'miros.mesh.a1' });
    const headers = { [SENDER_HEADER]: 'other@x' };

    ch.deliver('miros.mesh.a1', message(MESH, '10.9.5.5', 'mesh', 'k', 'HELLO', null), { routingKey: 'k', headers });
    ch.deliver('miros.mesh.a1', message(MESH, '192.0.2.1', 'mesh', 'k', 'HELLO', null), { routingKey: 'k', headers });
    ch.deliver(
      'miros.trace.a1',
      message(TRACE, '10.9.7.7', 'trace', SNOOP_ROUTING_KEYS.trace, SNOOP_SIGNALS.trace, '[2026-12-07 01:00:00.000000] [other] e->start_at() top->idle'),
      { routingKey: SNOOP_ROUTING_KEYS.trace, headers },
    );

    expect(fakeBrokers.to('10.9.5.5')).toHaveLength(1); // inside the allowlist: linked
    expect(fakeBrokers.to('192.0.2.1')).toHaveLength(0); // outside: no login attempt
    expect(fakeBrokers.to('10.9.7.7')).toHaveLength(0); // a trace message: never
    expect(lines).toHaveLength(1); // the trace line itself was shown
    const stats = nets.stats();
    expect(stats.bookkeeping.hostsRefused).toBe(1);
    expect(stats.brokers.map((b) => b.broker).join(' ')).not.toMatch(/192\.0\.2\.1|10\.9\.7\.7/);
    expect(warnings.filter((w) => w.includes('192.0.2.1'))).toEqual([
      expect.stringMatching(/not linking to host "192.0.2.1" named by a mesh message from other: outside learnHostsFrom \(10.9.0.0\/16\)/),
    ]);
    expect(warnings.join('\n')).not.toContain('p@'); // no password in what is reported
    await nets.stop();
  });
});
