// MirosNets and its links, with fake brokers (fake-amqp.ts) and a discovery the test changes:
// repeated overflow warnings are rate-limited and counted, a link to a host that left is
// closed after departedLinkMs with its held events counted as drops, and a link's changes
// of state (a block by flow control) reach the evidence file (issue 30).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Event } from '../../runtime/hsm/index.ts';
import { generateKey } from '../../runtime/net/fernet.ts';
import { MirosNets, type ChartPort } from '../../runtime/net/miros-nets.ts';
import { fakeBrokers, idleChartPort } from './fake-amqp.ts';

vi.mock('../../runtime/net/connection.ts', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../runtime/net/connection.ts')>()),
  openRecovering: (await import('./fake-amqp.ts')).fakeOpenRecovering,
}));
const listed = vi.hoisted(() => ({ hosts: ['127.0.0.1', '10.9.9.9'] }));
vi.mock('../../runtime/lan/index.ts', async () => (await import('./fake-amqp.ts')).fakeLan(() => listed.hosts));

const KEY = generateKey();
const chart = idleChartPort();
let dir: string;

beforeEach(() => {
  listed.hosts = ['127.0.0.1', '10.9.9.9'];
  fakeBrokers.reset();
  fakeBrokers.autoConnect = (url) => new URL(url).hostname === '127.0.0.1';
  dir = mkdtempSync(path.join(tmpdir(), 'miros-links-'));
});
afterEach(() => {
  fakeBrokers.reset();
  rmSync(dir, { recursive: true, force: true });
});

async function started(extra: Record<string, unknown> = {}) {
  const warnings: string[] = [];
  const nets = new MirosNets(chart, {
    rabbitUser: 'u',
    rabbitPassword: 'secret',
    meshEncryptionKey: KEY,
    thisAddress: '127.0.0.1',
    startTimeoutMs: 500,
    rediscoverIntervalMs: 0,
    evidenceFile: path.join(dir, 'a1.jsonl'),
    onWarning: (m) => warnings.push(m),
    ...extra,
  });
  await nets.start(() => undefined);
  warnings.length = 0; // the far link's "not up at start"
  return { nets, warnings };
}

describe('MirosNets: links judged per broker', () => {
  it('overflow warnings are rate-limited (one line, not one per event) and the held-back ones counted', async () => {
    const { nets, warnings } = await started({ outboxBound: 2 });
    for (let n = 0; n < 50; n++) nets.transmit(new Event('PING', { n }));
    expect(warnings.filter((w) => w.includes('is full'))).toHaveLength(1);
    const stats = nets.stats();
    expect(stats.deliveryErrors).toBe(48);
    expect(stats.drops.overflow).toBe(48);
    expect(stats.warnings.suppressed).toBe(47);
    await nets.stop();
  });

  it('a link to a host that left is closed after departedLinkMs; its held events are counted as drops', async () => {
    const { nets, warnings } = await started({ departedLinkMs: 1 });
    for (let n = 0; n < 3; n++) nets.transmit(new Event('PING', { n }));
    await nets.discover(); // still listed: kept
    expect(nets.stats().brokers.map((b) => b.broker)).toEqual([expect.stringContaining('@127.0.0.1:'), expect.stringContaining('@10.9.9.9:')]);
    listed.hosts = ['127.0.0.1'];
    await nets.discover();
    const stats = nets.stats();
    expect(stats.brokers.map((b) => b.broker)).toEqual([expect.stringContaining('@127.0.0.1:')]);
    expect(stats.drops.departed).toBe(3);
    expect(nets.lan.other.addresses).toEqual([]);
    expect(warnings).toEqual([expect.stringMatching(/^a1: host 10\.9\.9\.9 left .*link closed, 3 held events dropped/)]);
    expect(fakeBrokers.to('10.9.9.9')[0].closed).toBe(true);
    await nets.stop();
  });

  it('a link blocked by flow control is said once and its states go into the evidence file', async () => {
    const { nets, warnings } = await started();
    const own = fakeBrokers.to('127.0.0.1').find((c) => c.current?.channels.some((ch) => ch.confirms))!;
    own.emit('blocked', 'low on memory');
    own.emit('unblocked');
    own.emit('blocked', 'low on memory');
    expect(nets.stats().blockedBrokers).toBe(1);
    expect(warnings.filter((w) => w.includes('blocks publishing'))).toEqual([expect.stringContaining('(low on memory); holding events until it unblocks')]);
    own.emit('unblocked');
    await nets.stop();
    const records = readFileSync(path.join(dir, 'a1.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { kind: string; link?: { state: string; reason?: string } });
    const own127 = records.filter((r) => r.kind === 'link' && r.link && JSON.stringify(r).includes('127.0.0.1:')).map((r) => [r.link!.state, r.link!.reason ?? null]);
    expect(own127).toEqual([['up', null], ['blocked', 'low on memory'], ['up', null], ['blocked', 'low on memory'], ['up', null]]);
  });
});
