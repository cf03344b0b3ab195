// Pure arithmetic of the scale scenario: what each member should have received, what it
// lost, percentiles, and the reference deployment's formula.

import type { MemberReport } from '../../instances/protocol.ts';

export type { MemberReport } from '../../instances/protocol.ts';

const inRanges = (v: number, r: Array<[number, number]>) => r.some(([a, b]) => v >= a && v <= b);

export interface Missing {
  index: number;
  /** Events addressed to it that it did not get. */
  missing: number;
  /** Of those, the ones their sender's brokers had confirmed: lost by the mesh. */
  confirmed: number;
  /** Missing per sender. */
  from: Record<number, number>;
}

/**
 * Per receiver, the events addressed to it that it did not get: every burst of every other
 * member, and its predecessor's ring tokens (a token is for the successor only).
 */
export function missing(reports: MemberReport[]): Missing[] {
  const m = reports.length;
  return reports.map((r) => {
    const from: Record<number, number> = {};
    let total = 0;
    let confirmed = 0;
    for (const s of reports) {
      if (s.index === r.index) continue;
      const forMe = s.index === (r.index - 1 + m) % m; // its tokens come to me
      const got = r.got[String(s.index)] ?? [];
      let lost = 0;
      for (let q = 0; q < s.sent; q++) {
        if (!forMe && inRanges(q, s.ringSeqs)) continue;
        if (inRanges(q, got)) continue;
        lost++;
        if (!inRanges(q, s.unconfirmed ?? [])) confirmed++;
      }
      if (lost) {
        from[s.index] = lost;
        total += lost;
      }
    }
    return { index: r.index, missing: total, confirmed, from };
  });
}

/** Expected deliveries in all: each burst to every other member, each token to one. */
export function expectedDeliveries(sent: Array<{ sent: number; ring: number }>): number {
  const m = sent.length;
  return sent.reduce((n, s) => n + (s.sent - s.ring) * (m - 1) + s.ring, 0);
}

export function percentile(sorted: number[], p: number): number | null {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/**
 * Connections and publishes per event of the topologies, by formula:
 * reference = one broker per host (N = M), every chart linked to every broker;
 * mesh today = C charts per process on N brokers, each chart N publish links and one consuming;
 * clustered = at most 2 per process, one publish per event.
 */
export function formulas(m: number, n: number) {
  return {
    reference: { brokers: m, connections: m * m, publishesPerEvent: m, formula: 'N = M brokers: M·N = M² connections, N publishes per event' },
    mesh: { brokers: n, connections: m * (n + 1), publishesPerEvent: n, formula: 'M·(N+1) connections (N publish + 1 consume per chart), N publishes per event' },
    clustered: { brokers: n, connections: 2 * m, publishesPerEvent: 1, formula: '≤ 2 connections per process, 1 publish per event' },
  };
}
