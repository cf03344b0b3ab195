// The networked chart's options and the small types around them: what the coordinator
// (miros-nets.ts) and its parts (publisher, inbox, brokers) are given.
import type { Event } from '../hsm/index.ts';
import type { Environment } from '../env/environment.ts';
import type { NetOptions } from './config.ts';
import type { OutboxOverflowError } from './errors.ts';
import type { MetricsOptions } from './metrics.ts';
import type { SecurityOptions } from './security-options.ts';
import type { SnoopRecord } from './snoop-record.ts';

/** What the networked layer needs from a chart. */
export interface ChartPort {
  readonly name: string | undefined;
  readonly queue: { readonly length: number };
  postFifo(e: Event): unknown;
  scribble(text: string): void;
  liveSpy: boolean;
  liveTrace: boolean;
  registerLiveSpyCallback(fn: (line: string) => void): void;
  registerLiveTraceCallback(fn: (line: string) => void): void;
}

export interface NetworkedOptions extends NetOptions, SecurityOptions {
  /** The clock, timers, randomness and transport (default: the real ones; tests and simulations pass their own). */
  environment?: Environment;
  /** Where received snoop lines go (default: stdout, one line each). */
  output?: (line: string) => void;
  /** Told about every event an outbox could not take (default: stderr). */
  onDeliveryError?: (err: OutboxOverflowError) => void;
  /** Told once per sender and reason about dropped messages, and about broker trouble (default: stderr). */
  onWarning?: (message: string) => void;
  /**
   * Mesh messages are persistent by default, so a broker restart loses none of them
   * (it costs latency: the broker writes them to disk). `transient` trades that
   * guarantee for latency; the outbox still resends what a broker did not confirm.
   */
  meshDelivery?: 'persistent' | 'transient';
  /** How often the host sources are read again to pick up late hosts (default 5000 ms; 0 = never). */
  rediscoverIntervalMs?: number;
  /** Local evidence file (JSON lines, see evidence.ts); default $MIROS_EVIDENCE_DIR/<name>.jsonl, else none. */
  evidenceFile?: string;
  /**
   * How often the evidence file gets a `stats` line with the chart's counters (default 1000 ms;
   * 0 = never). Only while an evidence file is written.
   */
  statsIntervalMs?: number;
  /**
   * Prometheus metrics of this chart (docs/metrics.md), off by default: `{ port }` serves
   * GET /metrics (port 0: any free one, see metricsPort()), `{ registry }` registers them in
   * the application's prom-client Registry. Needs the optional package prom-client.
   */
  metrics?: MetricsOptions;
  /** Gets the record of every snoop message received, the mesh records of the trace network included (an observer's distributed.jsonl). */
  onSnoopRecord?: (record: SnoopRecord) => void;
}

export type SnoopMode = 'off' | 'color' | 'plain';

export interface StopOptions {
  /** Delete the chart's queues too (leave the mesh for good); default false: keep them for a restart. */
  leave?: boolean;
}

export interface Lan {
  this: { address: string | undefined };
  other: { addresses: string[] };
  addresses: string[];
}
