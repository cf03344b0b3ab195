// scribble: every instance calls snoopScribble(); all but the last join the trace network
// (the scribble goes there), the last joins only spy (it goes there). The monitor must
// print each one in the scribble format: " [+t] [ts] [NAME] # text" or
// " [+s] NAME [ts] [NAME] # text".
import { TIMESTAMP as TS, esc } from '../checks.ts';
import type { Run, Scenario } from '../runner.ts';
import { check } from '../summary.ts';

export function scribbleLine(name: string, viaSpy: boolean): RegExp {
  const n = esc(name);
  return new RegExp(viaSpy ? `^ \\[\\+s\\] ${n} ${TS} \\[${n}\\] # hello from ${n}$` : `^ \\[\\+t\\] ${TS} \\[${n}\\] # hello from ${n}$`);
}

const missing = (run: Run) =>
  run.instances.filter((i, k) => !run.distributed.some((l) => scribbleLine(i.name, k === run.instances.length - 1).test(l))).map((i) => `no scribble of ${i.name}`);

export function scribble(): Scenario {
  return {
    name: 'scribble',
    timeoutMs: 20_000,
    instances: ({ nodes, run }) =>
      Array.from({ length: nodes }, (_, i) => ({
        name: `scribble${i}-${run}`,
        program: 'peer',
        broker: i,
        config: i === nodes - 1 ? { spy: 'plain' as const } : { trace: 'plain' as const },
      })),
    go: async (run) => {
      for (const i of run.instances) i.send({ cmd: 'scribble', text: `hello from ${i.name}` });
    },
    done: (run) => missing(run).length === 0,
    checks: (run) => [check(`a scribble of each of ${run.instances.length} instances in distributed.log, in the scribble format`, missing(run))],
  };
}
