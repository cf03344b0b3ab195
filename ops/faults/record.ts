// What a fault did, as one plain-JSON record (a line of a future faults.jsonl).

export type FaultKind =
  | 'kill-broker'
  | 'pause-broker'
  | 'resume-broker'
  | 'restart-broker'
  | 'partition'
  | 'heal'
  | 'isolate'
  | 'latency'
  | 'bandwidth'
  | 'stall'
  | 'reset-peer'
  | 'loss'
  | 'kill-instance'
  | 'restart-instance';

export const FAULT_KINDS: readonly FaultKind[] = [
  'kill-broker',
  'pause-broker',
  'resume-broker',
  'restart-broker',
  'partition',
  'heal',
  'isolate',
  'latency',
  'bandwidth',
  'stall',
  'reset-peer',
  'loss',
  'kill-instance',
  'restart-instance',
];

export interface FaultRecord {
  kind: FaultKind;
  /** Node names ('n2'); a partition names both ends; heal() with no target: []; kill-/restart-instance: the instance. */
  target: string[];
  /** When it was done (ISO 8601). */
  at: string;
  backend: 'local' | 'netns' | 'docker';
  /** What was done, concretely: the pids signalled, the nft elements added. */
  detail: string;
  /** The fault that undoes this one, or undefined when there is none (a heal, a resume, a restart). */
  undo?: { kind: FaultKind; target: string[] };
}

export interface FaultOptions {
  /** Cluster dir (default $MIROS_CLUSTER_DIR, else ./.cluster). */
  dir?: string;
  /** Progress lines of restart-broker (default: none). */
  log?: (line: string) => void;
}

export function record(kind: FaultKind, target: string[], backend: FaultRecord['backend'], detail: string, undo?: FaultRecord['undo']): FaultRecord {
  return { kind, target, at: new Date().toISOString(), backend, detail, ...(undo ? { undo } : {}) };
}
