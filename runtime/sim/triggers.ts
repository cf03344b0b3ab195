// Faults triggered by state: "partition broker 1 from ponger when pinger enters `waiting`",
// written against the program's own chart and state names (issue 25). Triggers are armed when
// the workload starts. A trigger watches the charts of its `when.chart` (the running one, and
// every restart from its start): after each run-to-completion step it reads the state the
// chart settled in, and when that becomes `when.enters` it injects its fault, `afterMs` later,
// through the run's injector (the one the seeded plan uses). Deterministic: the check runs
// inside the engine's step, the fault on the world's clock. No randomness is drawn, so a
// seed's plan does not move.
import type { HsmWithQueues } from '../hsm/index.ts';
import { FAULT_KINDS, type Fault, type FaultInjector } from './faults.ts';

export interface FaultTrigger {
  /** When chart `chart` settles in the state named `enters` (the state its trace line ends in). */
  when: { chart: string; enters: string };
  /** The fault then: its kind, target (`chart` and/or `host`, an index into the program's hosts) and duration. */
  fault: Omit<Fault, 'at' | 'trigger'>;
  /** Virtual ms after the entry (default 0). */
  afterMs?: number;
  /** How many entries fire it (default 1). */
  times?: number;
}

/** The kinds that hit a chart (they need `fault.chart`) and those that hit a broker (`fault.host`). */
const CHART_KINDS = new Set(['partition', 'partition-one-way', 'latency', 'kill', 'stop', 'delete-queue', 'clock-step', 'queue-limit']);
const HOST_KINDS = new Set(['partition', 'partition-one-way', 'broker-crash', 'broker-pause', 'drop-connections', 'memory-alarm']);

/** Checks triggers against the program's charts and hosts; a clear error on the first thing wrong. */
export function validateTriggers(triggers: readonly FaultTrigger[], charts: readonly string[], hosts: number): void {
  triggers.forEach((t, i) => {
    const where = `faults.triggers[${i}]`;
    if (!charts.includes(t.when?.chart)) throw new RangeError(`${where}.when.chart: no chart ${JSON.stringify(t.when?.chart)} (the charts: ${charts.join(', ')})`);
    if (typeof t.when.enters !== 'string' || t.when.enters === '') throw new TypeError(`${where}.when.enters: the name of a state of ${t.when.chart}`);
    const f = t.fault;
    if (!(FAULT_KINDS as readonly string[]).includes(f?.kind)) throw new RangeError(`${where}.fault.kind: ${JSON.stringify(f?.kind)} is not a fault kind (${FAULT_KINDS.join(', ')})`);
    if (CHART_KINDS.has(f.kind) && !charts.includes(f.chart ?? '')) throw new RangeError(`${where}.fault.chart: ${f.kind} needs one of the charts (${charts.join(', ')})`);
    if (HOST_KINDS.has(f.kind) && !(Number.isInteger(f.host) && f.host! >= 0 && f.host! < hosts)) throw new RangeError(`${where}.fault.host: ${f.kind} needs a host index below ${hosts}`);
    if (!(Number.isFinite(f.durationMs) && f.durationMs > 0)) throw new RangeError(`${where}.fault.durationMs: a positive number of virtual ms`);
    if (t.afterMs !== undefined && !(Number.isFinite(t.afterMs) && t.afterMs >= 0)) throw new RangeError(`${where}.afterMs: >= 0`);
    if (t.times !== undefined && !(Number.isInteger(t.times) && t.times >= 1)) throw new RangeError(`${where}.times: an integer >= 1`);
  });
}

/** Virtual ms the triggers' faults may add after the seeded plan's last heal, at most. */
export function triggersSpanMs(triggers: readonly FaultTrigger[]): number {
  return triggers.reduce((n, t) => n + ((t.afterMs ?? 0) + t.fault.durationMs) * (t.times ?? 1), 0);
}

export interface TriggerWatch {
  /** Watches a chart (a restarted one too): its entries fire the triggers on its name. */
  watch(chart: HsmWithQueues, name: string): void;
  /** Virtual ms since the world began by which every fired fault has healed (0: none fired). */
  readonly lastHealAt: number;
}

/** Arms `triggers` on a run: faults go through `injector`; `schedule` and `elapsedMs` are the world's. */
export function armTriggers(
  triggers: readonly FaultTrigger[],
  run: { injector: FaultInjector; schedule(ms: number, fn: () => void): unknown; elapsedMs(): number; workloadAt: number },
): TriggerWatch {
  const left = triggers.map((t) => t.times ?? 1);
  let lastHealAt = 0;
  return {
    get lastHealAt() {
      return lastHealAt;
    },
    watch(chart, name) {
      const mine = triggers.map((t, i) => ({ t, i })).filter(({ t }) => t.when.chart === name);
      if (mine.length === 0) return;
      let last = chart.currentState(); // only a change counts: a chart watched in `waiting` has not entered it
      const host = chart as unknown as { afterRtc(): void };
      const afterRtc = host.afterRtc.bind(chart);
      // after each step (and the start): the state the chart settled in
      host.afterRtc = () => {
        afterRtc();
        const now = chart.currentState();
        if (now === last) return;
        last = now;
        for (const { t, i } of mine) {
          if (t.when.enters !== now || left[i]! <= 0) continue;
          left[i]!--;
          const afterMs = t.afterMs ?? 0;
          lastHealAt = Math.max(lastHealAt, run.elapsedMs() + afterMs + t.fault.durationMs);
          run.schedule(afterMs, () => run.injector.inject({ ...t.fault, at: run.elapsedMs() - run.workloadAt, trigger: `${name} entered ${now}` }));
        }
      };
    },
  };
}
