// horse-archer: N horse archers (ops/instances/archer.ts, the reference's networked
// example) fight the deceit-in-detail tactic over the mesh, time compressed. The outcome
// the example is about: the unit moves as one. Checks: every archer learned of every
// other; each retreated; and after the retreat the unit re-advances together: every
// archer's second advance comes within WINDOW_MS of the first one's, the followers moved
// by the leader's Other_Advance_War_Cry.
import type { Instance, Run, Scenario } from '../runner.ts';
import { check } from '../summary.ts';

const ROOTS = ['Hulagu', 'Hadan', 'Gantulga', 'Ganbaatar', 'Narankhuu', 'Ihbarhasvad', 'Nergui', 'Narantuyaa', 'Altan', 'Gandbold'];
export const WINDOW_MS = 2000;

const advances = (i: Instance) => i.got('ENTER').filter((x) => x.state === 'advance');

export function horseArcher(opts: { compression?: number } = {}): Scenario {
  const compression = opts.compression ?? 100;
  return {
    name: 'horse-archer',
    timeoutMs: 60_000,
    instances: ({ nodes, run }) =>
      Array.from({ length: nodes }, (_, i) => {
        const name = `${ROOTS[i % ROOTS.length]}${i >= ROOTS.length ? i : ''}.${run}`;
        return { name, program: 'archer', broker: i, config: { tx: `archer.${run}.${name}`, rx: `archer.${run}.#`, trace: 'color' as const, params: { compression } } };
      }),
    done: (run: Run) => run.instances.every((i) => advances(i).length >= 2),
    checks: (run: Run) => {
      const n = run.instances.length;
      const second = run.instances.map((i) => ({ name: i.name, ...advances(i)[1] }));
      const first = second.reduce((a, b) => (b.at < a.at ? b : a));
      const followers = second.filter((s) => s !== first);
      return [
        check(`every archer knows the other ${n - 1}`, run.instances.filter((i) => (i.got('OTHERS').at(-1)?.names.length ?? 0) !== n - 1).map((i) => `${i.name} knows ${JSON.stringify(i.got('OTHERS').at(-1)?.names ?? [])}`)),
        check('every archer made a feigned retreat before advancing again', run.instances.filter((i) => !i.got('ENTER').some((x) => x.state === 'feigned_retreat' && x.at < advances(i)[1].at)).map((i) => i.name)),
        check(`the unit re-advanced together: within ${WINDOW_MS} ms of ${first.name} (${first.cause})`, [
          ...followers.filter((s) => s.at - first.at > WINDOW_MS).map((s) => `${s.name} advanced ${s.at - first.at} ms later (${s.cause})`),
          ...followers.filter((s) => !String(s.cause).startsWith('Other_Advance_War_Cry') && !String(s.cause).startsWith('Advance_War_Cry')).map((s) => `${s.name} advanced because of ${s.cause}`),
        ]),
        check('the war cries and scribbles are in distributed.log', run.distributed.some((l) => / # .* has \d+ arrows$/.test(l)) ? [] : ['no "has N arrows" scribble']),
      ];
    },
  };
}
