// spy: the seed's debugging setup. The first instance joins spy + trace, the others
// trace only. Checks: spy lines come only from the first (in distributed.log and in
// every output); and for every spying instance NAME, `grep -F '[+s]' distributed.log |
// grep NAME` equals NAME's local spy log: the lines its own engine spied (chart.spy(),
// written at stop to NAME.spy.log as " [+s] NAME <line>", the form the network prints).
import { spyInvariant } from '../checks.ts';
import { readLog, type Scenario } from '../runner.ts';
import { check } from '../summary.ts';
import { TOGGLES, allToggled, toggleTwice } from './trace.ts';

export function spy(): Scenario {
  return {
    name: 'spy',
    timeoutMs: 20_000,
    instances: ({ nodes, run }) =>
      Array.from({ length: nodes }, (_, i) => ({
        name: `spy${i}-${run}`,
        program: 'peer',
        broker: i,
        config: i === 0 ? { trace: 'color' as const, spy: 'color' as const } : { trace: 'color' as const },
      })),
    go: toggleTwice,
    done: (run) => allToggled(run) && run.distributed.some((l) => l.startsWith(` [+s] ${run.instances[0].name} TOGGLE:busy`)),
    checks: (run) => {
      const [first, ...rest] = run.instances;
      const spyLines = run.snoop().filter((l) => l.startsWith(' [+s] '));
      const strangers = spyLines.filter((l) => !l.startsWith(` [+s] ${first.name} `));
      const restSpy = rest.filter((i) => i.lines.some((l) => l.startsWith(' [+s] '))).map((i) => `${i.name} printed spy lines`);
      const local = readLog(run, `${first.name}.spy.log`).split('\n').filter(Boolean);
      return [
        check(`spy lines only from ${first.name}`, [...strangers.slice(0, 3).map((l) => `distributed.log: ${l}`), ...(spyLines.length ? [] : ['no spy lines at all'])]),
        check('only the spying instance prints spy lines', [...restSpy, ...(first.lines.some((l) => l.includes('[+s]')) ? [] : [`${first.name} printed none`])]),
        spyInvariant(first.name, run.distributed, local),
        check('no spy lines of the trace-only instances in distributed.log', rest.filter((i) => spyLines.some((l) => l.includes(i.name))).map((i) => i.name)),
        check('trace lines of every instance in distributed.log', run.instances.filter((i) => !run.distributed.some((l) => l.includes(`[${i.name}] ${TOGGLES[1]}`))).map((i) => i.name)),
      ];
    },
  };
}
