// The scale scenario's arithmetic (what each member should have received, percentiles,
// formulas) and its attribution of broker connections to processes.
import { describe, expect, it } from 'vitest';
import { connectionsPerPid, type BrokerConnection } from '../../ops/scenario/scale/connections.ts';
import { expectedDeliveries, formulas, missing, percentile, type MemberReport } from '../../ops/scenario/scale/metrics.ts';

const report = (index: number, sent: number, ringSeqs: Array<[number, number]>, got: MemberReport['got']): MemberReport => ({
  index,
  sent,
  ring: ringSeqs.reduce((n, [a, b]) => n + b - a + 1, 0),
  ringSeqs,
  received: 0,
  got,
  latencies: [],
  rssMb: 50,
});

describe('scale: who should have received what', () => {
  // three members; 0 sent seqs 0-4 with seq 2 a token (for 1); 1 sent 0-2 with seq 1 a token (for 2); 2 sent 0-1, no token
  const sender0 = { sent: 5, ring: [[2, 2]] as Array<[number, number]> };
  it('nothing missing when bursts reached everyone and tokens their successor', () => {
    const reports = [
      report(0, 5, [[2, 2]], { 1: [[0, 0], [2, 2]], 2: [[0, 1]] }),
      report(1, 3, [[1, 1]], { 0: [[0, 4]], 2: [[0, 1]] }),
      report(2, 2, [], { 0: [[0, 1], [3, 4]], 1: [[0, 2]] }),
    ];
    expect(missing(reports).map((m) => m.missing)).toEqual([0, 0, 0]);
    expect(expectedDeliveries([{ sent: sender0.sent, ring: 1 }, { sent: 3, ring: 1 }, { sent: 2, ring: 0 }])).toBe(4 * 2 + 1 + 2 * 2 + 1 + 2 * 2);
  });

  it('counts a lost burst and a lost token at the receiver that should have had them, per sender', () => {
    const reports = [
      report(0, 5, [[2, 2]], { 1: [[0, 0], [2, 2]], 2: [[0, 1]] }),
      report(1, 3, [[1, 1]], { 0: [[0, 1], [3, 4]], 2: [[0, 1]] }), // lost 0's token (seq 2)
      report(2, 2, [], { 0: [[0, 0], [3, 4]], 1: [[0, 2]] }), // lost 0's burst seq 1
    ];
    expect(missing(reports)).toEqual([
      { index: 0, missing: 0, confirmed: 0, from: {} },
      { index: 1, missing: 1, confirmed: 1, from: { 0: 1 } },
      { index: 2, missing: 1, confirmed: 1, from: { 0: 1 } },
    ]);
  });

  it('a missing event its sender never had confirmed is missing, but not a confirmed loss', () => {
    const reports = [
      { ...report(0, 5, [[2, 2]], { 1: [[0, 0], [2, 2]], 2: [[0, 1]] }), unconfirmed: [[4, 4]] as Array<[number, number]> },
      report(1, 3, [[1, 1]], { 0: [[0, 3]], 2: [[0, 1]] }), // lacks 0's seq 4: unconfirmed
      report(2, 2, [], { 0: [[0, 0], [3, 3]], 1: [[0, 2]] }), // lacks 0's seq 1 (confirmed) and 4 (unconfirmed)
    ];
    expect(missing(reports).map(({ missing: n, confirmed }) => [n, confirmed])).toEqual([[0, 0], [1, 0], [2, 1]]);
  });

  it('a token for someone else is not expected, and one received anyway does not hide a loss', () => {
    const reports = [report(0, 2, [[0, 0]], {}), report(1, 0, [], { 0: [[0, 1]] }), report(2, 0, [], { 0: [[0, 0]] })];
    // 2 got 0's token (seq 0, not for it) but not the burst (seq 1)
    expect(missing(reports)[2]).toEqual({ index: 2, missing: 1, confirmed: 1, from: { 0: 1 } });
  });

  it('percentiles of sorted samples', () => {
    const s = Array.from({ length: 100 }, (_, i) => i + 1);
    expect([percentile(s, 50), percentile(s, 99), percentile(s, 100), percentile([], 50)]).toEqual([50, 99, 100, null]);
  });

  it("the reference's one broker per host: M² connections and M publishes per event", () => {
    expect(formulas(50, 3)).toMatchObject({
      reference: { brokers: 50, connections: 2500, publishesPerEvent: 50 },
      mesh: { connections: 200, publishesPerEvent: 3 },
      clustered: { connections: 100, publishesPerEvent: 1 },
    });
  });
});

describe('scale: connections attributed to processes', () => {
  const conn = (port: number, connectionName?: string): BrokerConnection => ({ name: `c${port}`, node: 'n1@localhost', peerHost: '127.0.0.1', peerPort: port, connectionName });

  it('by connection_name first, by the socket owner otherwise; strangers are unmatched', () => {
    const owners = new Map([
      ['127.0.0.1:1001', 11],
      ['127.0.0.1:1002', 11],
      ['127.0.0.1:1003', 22],
      ['127.0.0.1:1004', 99],
    ]);
    const { perPid, unmatched } = connectionsPerPid(
      [conn(1001), conn(1002), conn(1003), conn(1004), conn(2000, 'miros/pub scale[22]@127.0.8.11 → 127.0.8.12:5672'), conn(2001, 'someone else')],
      [11, 22],
      owners,
    );
    expect(perPid.get(11)).toMatchObject({ connections: 2, byName: 0, byPort: 2 });
    expect(perPid.get(22)).toMatchObject({ connections: 2, byName: 1, byPort: 1, names: ['miros/pub scale[22]@127.0.8.11 → 127.0.8.12:5672'] });
    expect(unmatched).toBe(2);
  });
});
