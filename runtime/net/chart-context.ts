// What the parts of a networked chart (publisher.ts, inbox.ts, brokers.ts, chart-evidence.ts)
// share: who the chart is, where it runs, its phase, its keys and clocks, and how it tells
// about trouble. The coordinator (miros-nets.ts) makes the one instance and owns the phase.
import type { Environment } from '../env/environment.ts';
import type { NetConfig } from './config.ts';
import type { KeyRing } from './key-ring.ts';
import type { LamportClock } from './lamport.ts';
import type { ChartMetrics } from './metrics.ts';
import type { ChartPort, Lan, NetworkedOptions, SnoopMode } from './networked-options.ts';
import type { SecuritySettings } from './security-options.ts';
import type { NetworkName } from './topology.ts';
import type { WarningLimiter } from './warning-limiter.ts';

export type Phase = 'new' | 'starting' | 'running' | 'stopped';

export interface ChartContext {
  readonly chart: ChartPort;
  /** The chart's name ('None' while it has none). */
  readonly name: string;
  /** This host's address (discovery may change it; '127.0.0.1' until known). */
  readonly host: string;
  readonly phase: Phase;
  readonly lan: Lan;
  readonly snoop: { trace: SnoopMode; spy: SnoopMode };
  readonly options: NetworkedOptions;
  readonly config: NetConfig;
  readonly security: SecuritySettings;
  /** The clock, timers, randomness and transport of this chart (options.environment). */
  readonly env: Environment;
  readonly fernets: Record<NetworkName, KeyRing>;
  readonly clock: LamportClock;
  /** This start's identity in the logs: the sequence base (seq − incarnation counts from 1). */
  readonly incarnation: number;
  /** This start's incarnation id: 64 random bits, sent in every envelope (iid). */
  readonly incarnationId: string;
  /** Where received snoop lines go (the output option, else stdout). */
  readonly output: (line: string) => void;
  readonly warn: (message: string) => void;
  /** Prometheus metrics (the metrics option), from start to stop. */
  readonly metrics: ChartMetrics | undefined;
  /** Repeated warnings (overflow, TLS, blocked, mismatches), rate-limited and counted. */
  readonly limited: WarningLimiter;
}
