// What every scenario does with its logs at the end: `log check` on the run dir, and
// run.html (the sequence diagram) next to distributed.log.
import { writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { checkLogs, type LogCheckResult } from './check.ts';
import { diagramData, toHtml } from './diagram.ts';
import { loadRun } from './records.ts';

export interface RunEvidence {
  check: LogCheckResult;
  /** The check as a scenario check (summary.json's checks[]). */
  asCheck: { name: string; pass: boolean; reasons: string[] };
  /** Path of run.html. */
  html: string;
}

export function writeRunEvidence(runDir: string): RunEvidence {
  const logs = loadRun([runDir]);
  const check = checkLogs(logs);
  const html = join(runDir, 'run.html');
  writeFileSync(html, toHtml(diagramData(logs, `run ${basename(runDir)}`)));
  const c = check.counts;
  const reasons = [...check.problems.slice(0, 10), ...(check.problems.length > 10 ? [`… ${check.problems.length - 10} more (mirosnet log check ${runDir})`] : [])];
  return {
    check,
    html,
    asCheck: {
      name: `log check: evidence complete (${c.evidenceFiles} instance logs, ${c.distributedRecords} records in distributed.jsonl, ${c.meshSent} mesh events sent, ${c.meshReceived} received)`,
      pass: check.ok,
      reasons: check.ok ? check.expected.map((e) => `expected: ${e}`) : reasons,
    },
  };
}
