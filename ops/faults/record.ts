// What a fault did, as one plain-JSON record (a line of faults.jsonl). The kinds are the
// catalogue's (catalogue.ts): a record names one of them, and the fault that undoes it.

export interface FaultRecord {
  /** A kind of the catalogue (catalogue.ts FaultKind). */
  kind: string;
  /** Node names ('n2'); a partition names both ends; heal() with no target: []; the instance faults: the instance. */
  target: string[];
  /** When it was done (ISO 8601). */
  at: string;
  backend: 'local' | 'netns' | 'docker';
  /** What was done, concretely: the pids signalled, the nft elements added. */
  detail: string;
  /** The fault that undoes this one, or undefined when there is none (a heal, a resume, a restart). */
  undo?: { kind: string; target: string[] };
  /** Events the fault removed on purpose (delete-queue: the queue's depth at deletion), so a checker counts them as removed, not lost. */
  removed?: number;
}

/** A running scenario's instances, when the fault is asked from inside the run that owns them. */
export interface InstanceHost {
  /** SIGKILL (default) or SIGTERM (a clean stop: the chart stops, its queues kept). */
  killInstance(name: string, signal?: 'SIGKILL' | 'SIGTERM'): Promise<void>;
  /** `prefix`: a command it runs under (faketime). */
  restartInstance(name: string, how?: { prefix?: string[] }): Promise<void>;
}

export interface FaultOptions {
  /** Cluster dir (default $MIROS_CLUSTER_DIR, else ./.cluster). */
  dir?: string;
  /** Progress lines of restart-broker (default: none). */
  log?: (line: string) => void;
  /** The run that owns the instances (the scenario API, chaos); else the run is asked through its control socket. */
  instances?: InstanceHost;
}

export function record(kind: string, target: string[], backend: FaultRecord['backend'], detail: string, undo?: FaultRecord['undo']): FaultRecord {
  return { kind, target, at: new Date().toISOString(), backend, detail, ...(undo ? { undo } : {}) };
}
