// Faults as time bands: from when a fault was injected to when it was undone (its undo
// record in faults.jsonl), else a fixed span. A loss inside a band (plus a grace period for
// what was in flight) is expected, not an error.
import type { FaultRecord } from '../faults/record.ts';

/**
 * A line of faults.jsonl that is not an injected fault but a declared loss: every mesh event
 * or line of these senders may go missing for the whole run (e.g. a chart with another mesh key).
 */
export interface ExpectedLossRecord {
  kind: 'expect-loss';
  senders: string[];
  reason: string;
  at: string;
}

/**
 * A line of a scenario's own fault schedule (the chaos scenario: one line per cycle): when
 * the fault was injected and when it was healed, instead of `at` and an undo record.
 */
export interface CycleLine {
  cycle: number;
  kind: string;
  target: string[];
  injectedAt?: string;
  healedAt?: string;
}

export type FaultsLine = FaultRecord | ExpectedLossRecord | CycleLine;

const startOf = (f: FaultRecord | CycleLine): number => Date.parse(('at' in f ? f.at : f.injectedAt) ?? '');

export const isExpectedLoss = (f: FaultsLine): f is ExpectedLossRecord => f.kind === 'expect-loss';

export interface FaultBand {
  kind: string;
  target: string[];
  start: number;
  end: number;
  label: string;
}

/** How long a fault without an undo record (a restart, a kill) is taken to last. */
export const DEFAULT_FAULT_SPAN_MS = 10_000;
/** Losses this long after a band still count as caused by it (messages in flight). */
export const FAULT_GRACE_MS = 5_000;

const UNDOES = new Set(['heal', 'resume-broker']);

export function faultBands(lines: FaultsLine[]): FaultBand[] {
  const faults = lines.filter((f): f is FaultRecord | CycleLine => !isExpectedLoss(f));
  const sorted = [...faults].sort((a, b) => startOf(a) - startOf(b));
  const bands: FaultBand[] = [];
  sorted.forEach((f, i) => {
    if (UNDOES.has(f.kind)) return;
    const start = startOf(f);
    if (!Number.isFinite(start)) return; // a cycle that failed before its fault was injected
    const undoKind = 'undo' in f ? f.undo?.kind : undefined;
    const undo = undoKind
      ? sorted.slice(i + 1).find((g) => g.kind === undoKind && (g.target.length === 0 || g.target.some((t) => f.target.includes(t))))
      : undefined;
    const healedAt = 'healedAt' in f && f.healedAt ? Date.parse(f.healedAt) : NaN;
    const end = undo ? startOf(undo) : Number.isFinite(healedAt) ? healedAt : start + DEFAULT_FAULT_SPAN_MS;
    bands.push({ kind: f.kind, target: f.target, start, end, label: `${f.kind} ${f.target.join(' ')}`.trim() });
  });
  return bands;
}

/** The band that explains a loss at time `ts` (ms), if any. */
export function bandAt(bands: FaultBand[], ts: number): FaultBand | undefined {
  return bands.find((b) => ts >= b.start && ts <= b.end + FAULT_GRACE_MS);
}
