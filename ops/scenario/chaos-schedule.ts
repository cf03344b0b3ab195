// The chaos scenario's fault schedule: a pure function of (seed, cycles, kinds, hosts,
// instances), so the same seed gives the same schedule. mulberry32 as the PRNG: small,
// well known, and its sequence is fixed by the seed alone.

export const CHAOS_KINDS = ['partition', 'isolate', 'kill-broker', 'pause-broker', 'restart-broker', 'kill-instance', 'latency'] as const;
export type ChaosKind = (typeof CHAOS_KINDS)[number];

export interface PlannedFault {
  cycle: number;
  kind: ChaosKind;
  /** Node names (partition: two; the others: one), or the instance's name (kill-instance). */
  target: string[];
  /** How long it is held before the heal, ms (1000–5000). */
  holdMs: number;
  /** latency: the added delay, ms. */
  ms?: number;
}

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function parseKinds(list: string): ChaosKind[] {
  const kinds = list.split(',').map((k) => k.trim()).filter(Boolean);
  const unknown = kinds.filter((k) => !(CHAOS_KINDS as readonly string[]).includes(k));
  if (unknown.length || !kinds.length) throw new Error(`unknown fault kind(s) ${unknown.join(', ') || '(none given)'}: the kinds are ${CHAOS_KINDS.join(', ')}`);
  return kinds as ChaosKind[];
}

export function chaosSchedule(o: { seed: number; cycles: number; kinds: readonly ChaosKind[]; hosts: string[]; instances: string[] }): PlannedFault[] {
  const rnd = mulberry32(o.seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const out: PlannedFault[] = [];
  for (let cycle = 1; cycle <= o.cycles; cycle++) {
    const kind = pick(o.kinds);
    const holdMs = 1000 + Math.floor(rnd() * 41) * 100; // 1.0 … 5.0 s
    let target: string[];
    if (kind === 'partition') {
      const a = pick(o.hosts);
      target = [a, pick(o.hosts.filter((h) => h !== a))];
    } else if (kind === 'kill-instance') target = [pick(o.instances)];
    else target = [pick(o.hosts)];
    out.push({ cycle, kind, target, holdMs, ...(kind === 'latency' ? { ms: 100 + Math.floor(rnd() * 5) * 100 } : {}) });
  }
  return out;
}
