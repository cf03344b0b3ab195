// The evidence file's `stats` lines (docs/metrics.md): written by EvidenceLog, built from
// networkStats() by statsCounters, and read by `log check` (well formed, counters never go down).
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkLogs } from '../../ops/log/check.ts';
import { loadRun } from '../../ops/log/records.ts';
import { EvidenceLog, type StatsCounters } from '../../runtime/net/evidence.ts';
import type { NetworkStats } from '../../runtime/net/miros-nets.ts';
import { linkSnapshot, netCounters, networkStats } from './stats-fixture.ts';
import { brokerName, statsCounters } from '../../runtime/net/run-stats.ts';

const counters = (over: Partial<StatsCounters> = {}): StatsCounters => ({
  sent: 0, confirmed: 0, unconfirmed: 0, inFlight: 0, outbox: 0, delivered: 0, duplicates: 0, drops: {}, queue: 0, links: { '127.0.0.11:5672': 'up' }, ...over,
});

function runDir(write: (log: EvidenceLog) => void): string {
  const dir = mkdtempSync(join(tmpdir(), 'stats-'));
  const log = new EvidenceLog(join(dir, 'a.jsonl'), { sender: 'a', host: '127.0.0.11', incarnation: 100 });
  write(log);
  log.close(3, { mesh: 0, trace: 0, spy: 0 });
  return dir;
}

describe('stats lines', () => {
  it('are numbered like every line and counted in the closing totals', () => {
    const dir = runDir((log) => {
      log.writeStats(1, counters({ sent: 2 }));
      log.writeStats(2, counters({ sent: 5, drops: { expired: 1 } }));
    });
    const lines = readFileSync(join(dir, 'a.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.n, l.kind])).toEqual([[1, 'start'], [2, 'stats'], [3, 'stats'], [4, 'stop']]);
    expect(lines[2]).toMatchObject({ incarnation: 100, sender: 'a', host: '127.0.0.11', lamport: 2, sent: 5, drops: { expired: 1 }, links: { '127.0.0.11:5672': 'up' } });
    expect(typeof lines[2].ts).toBe('number');
    expect(lines[3].totals.byKind).toEqual({ stats: 2 });
  });

  it('log check accepts them, and they are no mesh or snoop record', () => {
    const dir = runDir((log) => {
      log.writeStats(1, counters({ sent: 1, confirmed: 1 }));
      log.writeStats(1, counters({ sent: 3, confirmed: 2, unconfirmed: 1, inFlight: 1 }));
    });
    const result = checkLogs(loadRun([dir]));
    expect(result.problems).toEqual([]);
    expect(result.counts.evidenceRecords).toBe(0);
  });

  it('log check names a counter that went down and a line without its fields', () => {
    const down = checkLogs(loadRun([runDir((log) => {
      log.writeStats(1, counters({ delivered: 4, drops: { expired: 2 } }));
      log.writeStats(1, counters({ delivered: 3, drops: { expired: 2 } }));
      log.writeStats(1, counters({ delivered: 5, drops: {} }));
    })]));
    expect(down.problems).toEqual([
      'a.jsonl: incarnation 100: stats line n=3 (a.jsonl:3) counts delivered 3, less than 4 at n=2',
      'a.jsonl: incarnation 100: stats line n=4 (a.jsonl:4) counts drops.expired 0, less than 2 at n=3',
    ]);
    const broken = checkLogs(loadRun([runDir((log) => log.writeStats(1, { ...counters(), inFlight: undefined } as unknown as StatsCounters))]));
    expect(broken.problems).toEqual(['a.jsonl: incarnation 100: stats line n=2 (a.jsonl:2) has no count "inFlight"']);
  });

  it('statsCounters sums the links of networkStats() and keeps drops by reason', () => {
    const link = (broker: string, state: 'up' | 'down', queued: number, inFlight: number, confirmed: number) => linkSnapshot(broker, state, queued, inFlight, confirmed, confirmed + inFlight);
    const stats = networkStats({
      mesh: { ...netCounters(2), delivered: 7, sent: 9, self: 0 },
      trace: netCounters(1),
      deliveryErrors: 1,
      brokers: [link('amqp://peter:***@127.0.0.11:5672/%2F', 'up', 0, 2, 9), link('amqp://peter:***@127.0.0.12:5672/%2F', 'down', 4, 1, 5)],
      drops: { overflow: 1, expired: 3 },
      lamport: 12,
    });
    expect(statsCounters(stats, 6)).toEqual({
      sent: 9, confirmed: 14, unconfirmed: 7, inFlight: 3, outbox: 4, delivered: 7, duplicates: 3, drops: { overflow: 1, expired: 3 }, queue: 6,
      links: { '127.0.0.11:5672': 'up', '127.0.0.12:5672': 'down' },
    });
    expect(brokerName({ broker: 'amqp://u:***@cluster(3 nodes)/%2F' })).toBe('cluster(3 nodes)');
  });
});
