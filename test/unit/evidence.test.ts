import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EvidenceLog, evidencePath } from '../../runtime/net/evidence.ts';
import type { SnoopRecord } from '../../runtime/net/snoop-record.ts';
import { openJsonlSink } from '../../ops/logs/jsonl-sink.ts';
import { checkLogs } from '../../ops/log/check.ts';
import { loadRun } from '../../ops/log/records.ts';

const record = (seq: number): SnoopRecord => ({
  network: 'trace', sender: 'a', host: '127.0.0.11', inc: 100, seq, lamport: 0, ts: 1, kind: 'trace', signal: 'start_at', from: 'top', to: 'idle', text: ' [+t] x',
});

describe('EvidenceLog', () => {
  it('creates <chart>.jsonl and distributed.jsonl 0600: they hold payloads in the clear', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'evidence-'));
    const old = process.umask(0o022); // the usual umask: files would be 0644 unless asked
    try {
      new EvidenceLog(join(dir, 'a.jsonl'), { sender: 'a', host: '127.0.0.11', incarnation: 1 }).close(0, { mesh: 0, trace: 0, spy: 0 });
      const sink = openJsonlSink(join(dir, 'distributed.jsonl'));
      sink.write(record(1));
      await sink.close();
    } finally {
      process.umask(old);
    }
    expect(statSync(join(dir, 'a.jsonl')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'distributed.jsonl')).mode & 0o777).toBe(0o600);
  });

  it('numbers lines from 1 per incarnation and closes each with its totals', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'evidence-')), 'a.jsonl');
    const first = new EvidenceLog(path, { sender: 'a', host: '127.0.0.11', incarnation: 100 });
    first.write(record(101));
    first.write(record(102));
    first.close(5, { mesh: 0, trace: 2, spy: 0 });
    const second = new EvidenceLog(path, { sender: 'a', host: '127.0.0.11', incarnation: 200 });
    second.close(0, { mesh: 0, trace: 0, spy: 0 });
    const lines = readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.incarnation, l.n, l.kind])).toEqual([
      [100, 1, 'start'],
      [100, 2, 'trace'],
      [100, 3, 'trace'],
      [100, 4, 'stop'],
      [200, 1, 'start'],
      [200, 2, 'stop'],
    ]);
    expect(lines[3].totals).toEqual({ lines: 3, byKind: { trace: 2 }, sent: { mesh: 0, trace: 2, spy: 0 } });
    expect(lines[3].lamport).toBe(5);
  });

  it('puts the incarnation id on every line, records without one (a link change) included: the log check groups lines by it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'evidence-'));
    const path = join(dir, 'a.jsonl');
    const iid = '0123456789abcdef';
    const log = new EvidenceLog(path, { sender: 'a', host: '127.0.0.11', incarnation: 100, iid });
    log.write({ ...record(101), iid });
    log.write({ ...record(102), network: 'local', kind: 'link', signal: null, text: ' [link] a: broker n2 blocked' });
    log.writeStats(3, { sent: 0, confirmed: 0, unconfirmed: 0, inFlight: 0, outbox: 0, delivered: 0, duplicates: 0, drops: {}, queue: 0, links: {} });
    log.close(4, { mesh: 0, trace: 1, spy: 0 });
    const lines = readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.n, l.kind, l.iid])).toEqual([
      [1, 'start', iid],
      [2, 'trace', iid],
      [3, 'link', iid],
      [4, 'stats', iid],
      [5, 'stop', iid],
    ]);
    expect(checkLogs(loadRun([dir])).problems).toEqual([]);
  });

  it('is named by the option, else by $MIROS_EVIDENCE_DIR, else not written', () => {
    expect(evidencePath('/x/y.jsonl', 'a', {})).toBe('/x/y.jsonl');
    expect(evidencePath(undefined, 'ring0', { MIROS_EVIDENCE_DIR: '/logs/run' })).toBe('/logs/run/ring0.jsonl');
    expect(evidencePath(undefined, 'ring0', {})).toBeUndefined();
  });
});
