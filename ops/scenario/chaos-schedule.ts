// The chaos scenario's fault schedule: a pure function of (seed, cycles, kinds, hosts,
// instances), so the same seed gives the same schedule. mulberry32 as the PRNG: small,
// well known, and its sequence is fixed by the seed alone. The kinds and what each targets
// are the fault catalogue's (ops/faults/catalogue.ts).
import { CATALOGUE, type Catalogue, chaosKinds, chaosKindsFor, defaultChaosKinds } from '../faults/catalogue.ts';
import type { BackendKind } from '../cluster/types.ts';

/** The kinds chaos can draw (the catalogue's rows with a chaos use). */
export const CHAOS_KINDS: readonly string[] = chaosKinds();
export type ChaosKind = string;

export interface PlannedFault {
  cycle: number;
  kind: ChaosKind;
  /** Node names (partition: two; the others: one), or the instance's name (kill-instance). */
  target: string[];
  /** How long it is held before the heal, ms (1000–5000). */
  holdMs: number;
  /** The numbers drawn for the kind's number parameters (latency: ms). */
  numbers?: Record<string, number>;
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

/** The --faults value: kinds, comma-separated, or `all` (every kind the backend supports, resolved by resolveKinds). */
export type KindsChoice = readonly ChaosKind[] | 'all';

export function parseKinds(list: string, catalogue: Catalogue = CATALOGUE): KindsChoice {
  if (list.trim() === 'all') return 'all';
  const known = chaosKinds(catalogue);
  const kinds = list.split(',').map((k) => k.trim()).filter(Boolean);
  const unknown = kinds.filter((k) => !known.includes(k));
  if (unknown.length || !kinds.length) throw new Error(`unknown fault kind(s) ${unknown.join(', ') || '(none given)'}: the kinds are ${known.join(', ')}, or all`);
  return kinds;
}

/** The kinds a choice stands for on a backend: `all` is every chaos kind it supports; undefined: the default set. */
export function resolveKinds(choice: KindsChoice | undefined, backend: BackendKind, can?: Parameters<typeof chaosKindsFor>[1], catalogue: Catalogue = CATALOGUE): ChaosKind[] {
  if (choice === 'all') return chaosKindsFor(backend, can, catalogue);
  return [...(choice ?? defaultChaosKinds(catalogue))];
}

export function chaosSchedule(o: { seed: number; cycles: number; kinds: readonly ChaosKind[]; hosts: string[]; instances: string[]; catalogue?: Catalogue }): PlannedFault[] {
  const catalogue = o.catalogue ?? CATALOGUE;
  const rnd = mulberry32(o.seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const out: PlannedFault[] = [];
  for (let cycle = 1; cycle <= o.cycles; cycle++) {
    const kind = pick(o.kinds);
    const use = catalogue[kind]?.chaos;
    if (!use) throw new Error(`chaos cannot draw ${kind}: the catalogue gives it no chaos use`);
    const holdMs = 1000 + Math.floor(rnd() * 41) * 100; // 1.0 … 5.0 s
    let target: string[];
    if (use.target === 'pair') {
      const a = pick(o.hosts);
      target = [a, pick(o.hosts.filter((h) => h !== a))];
    } else if (use.target === 'instance') target = [pick(o.instances)];
    else target = [pick(o.hosts)];
    const numbers = use.draw?.(rnd);
    out.push({ cycle, kind, target, holdMs, ...(numbers ? { numbers } : {}) });
  }
  return out;
}
