// Check results and the end-of-run summary table.
import { formatColumns } from '../util/columns.ts';
import type { NetworkStats } from '../../runtime/index.ts';

/** What a summary reads of a run (runner.ts's Run has it): its id, figures and instances. */
export interface RunFacts {
  readonly id: string;
  readonly nodes: number;
  readonly logDir: string;
  readonly distributed: readonly string[];
  readonly instances: ReadonlyArray<{
    readonly name: string;
    readonly config: { readonly host: string };
    readonly stats: NetworkStats | undefined;
    readonly stderr: readonly string[];
    readonly exitCode: number | null | undefined;
  }>;
}

export interface CheckResult {
  name: string;
  pass: boolean;
  /** Why it failed (or notes), one line each. */
  reasons: string[];
}

/** A check from a list of problems: passes when there are none. */
export function check(name: string, problems: string[]): CheckResult {
  return { name, pass: problems.length === 0, reasons: problems.slice(0, 10).concat(problems.length > 10 ? [`… ${problems.length - 10} more`] : []) };
}

export function formatSummary(name: string, run: RunFacts, checks: CheckResult[], pass: boolean, seconds: number): string {
  const rows = run.instances.map((i) => {
    const s = i.stats;
    const errors = (s ? s.mesh.dropped + s.trace.dropped + s.spy.dropped + s.deliveryErrors : 0) + i.stderr.filter((l) => !l.startsWith('warning:')).length;
    return [
      i.name,
      i.config.host,
      s ? String(s.mesh.sent) : '-',
      s ? String(s.mesh.delivered) : '-',
      s ? String(s.trace.sent + s.spy.sent) : '-',
      s ? String(s.trace.delivered + s.spy.delivered) : '-',
      String(errors),
      i.exitCode === undefined ? 'not started' : String(i.exitCode),
    ];
  });
  const table = formatColumns([['INSTANCE', 'HOST', 'SENT', 'RECEIVED', 'SNOOP SENT', 'SNOOP RECEIVED', 'ERRORS', 'EXIT'], ...rows]);
  const lines = checks.map((c) => `${c.pass ? 'PASS' : 'FAIL'}  ${c.name}${c.pass ? '' : `\n        ${c.reasons.join('\n        ')}`}`);
  return [
    `scenario ${name}: ${pass ? 'PASSED' : 'FAILED'} in ${seconds.toFixed(1)} s (run ${run.id}, ${run.distributed.length} lines in distributed.log)`,
    table,
    ...lines,
    `logs: ${run.logDir}`,
  ].join('\n');
}

/** summary.json: the run as machines read it (name, pass, seconds, checks, metrics). */
export interface ScenarioSummary {
  name: string;
  pass: boolean;
  seconds: number;
  run: string;
  backend: string;
  nodes: number;
  /** detail: the reasons on one line ('' when it passed without notes). */
  checks: Array<CheckResult & { detail: string }>;
  metrics: {
    /** A scenario's own figures (chaos: sent, lost, resume p50/p99, …). */
    [scenarioMetric: string]: unknown;
    distributedLines: number;
    instances: Array<{
      name: string;
      host: string;
      exitCode: number | null | undefined;
      mesh: { sent: number; delivered: number; dropped: number; droppedBy: Record<string, number>; duplicates: number } | null;
      snoop: { sent: number; delivered: number; dropped: number } | null;
      deliveryErrors: number | null;
      stderrLines: number;
    }>;
  };
}

export function summaryJson(name: string, run: RunFacts, backend: string, checks: CheckResult[], pass: boolean, seconds: number, extra: Record<string, unknown> = {}): ScenarioSummary {
  return {
    name,
    pass,
    seconds: Math.round(seconds * 1000) / 1000,
    run: run.id,
    backend,
    nodes: run.nodes,
    checks: checks.map((c) => ({ ...c, detail: c.reasons.join('; ') })),
    metrics: {
      ...extra,
      distributedLines: run.distributed.length,
      instances: run.instances.map((i) => {
        const s = i.stats;
        return {
          name: i.name,
          host: i.config.host,
          exitCode: i.exitCode,
          mesh: s ? { sent: s.mesh.sent, delivered: s.mesh.delivered, dropped: s.mesh.dropped, droppedBy: s.mesh.droppedBy, duplicates: s.mesh.duplicates } : null,
          snoop: s ? { sent: s.trace.sent + s.spy.sent, delivered: s.trace.delivered + s.spy.delivered, dropped: s.trace.dropped + s.spy.dropped } : null,
          deliveryErrors: s ? s.deliveryErrors : null,
          stderrLines: i.stderr.length,
        };
      }),
    },
  };
}
