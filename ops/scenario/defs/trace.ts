// trace: every instance joins the snoop trace network (with colour) and toggles twice;
// each one's state changes must appear in every instance's output, blue in its own and
// purple in the others', and plain in distributed.log.
import { traceEverywhere, traceLine } from '../checks.ts';
import { sleep } from '../../util/wait.ts';
import type { Run, Scenario } from '../runner.ts';

export const TOGGLES = ['e->TOGGLE() idle->busy', 'e->TOGGLE() busy->idle'];

export async function toggleTwice(run: Run): Promise<void> {
  run.send({ cmd: 'post', signal: 'TOGGLE' });
  await sleep(200);
  run.send({ cmd: 'post', signal: 'TOGGLE' });
}

/** distributed.log has the last toggle of each named instance. */
export function allToggled(run: Run, names = run.instances.map((i) => i.name)): boolean {
  return names.every((n) => run.distributed.some((l) => traceLine(n, TOGGLES[1]).test(l)));
}

export function trace(): Scenario {
  return {
    name: 'trace',
    timeoutMs: 20_000,
    instances: ({ nodes, run }) => Array.from({ length: nodes }, (_, i) => ({ name: `trace${i}-${run}`, program: 'peer', broker: i, config: { trace: 'color' as const } })),
    go: toggleTwice,
    done: (run) => allToggled(run) && traceEverywhere(new Map(run.instances.map((i) => [i.name, i.lines])), run.distributed, TOGGLES).pass,
    checks: (run) => [traceEverywhere(new Map(run.instances.map((i) => [i.name, i.lines])), run.distributed, TOGGLES)],
  };
}
