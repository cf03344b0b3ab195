#!/usr/bin/env node
// horse-archer: N horse archers (ops/instances/archer.ts, the reference's networked example)
// fight the deceit-in-detail tactic over the mesh, time compressed. The outcome the example is
// about: the unit moves as one. Checks: every archer learned of every other; each retreated;
// and after the retreat the unit re-advances together: every archer's second advance comes
// within WINDOW_MS of the first one's, the followers moved by the leader's
// Other_Advance_War_Cry. A zx script (node or zx).
//   node scenarios/horse-archer.mjs --nodes 3 [--compression 100] [--timeout S] [--backend local]
import { ensureBuilt } from '../scripts/ensure-built.mjs';

ensureBuilt(); // a checkout runs the compiled package (dist/), rebuilt when a source changed
const { scenario, options } = await import('miros-rabbitmq/scenario');

const ROOTS = ['Hulagu', 'Hadan', 'Gantulga', 'Ganbaatar', 'Narankhuu', 'Ihbarhasvad', 'Nergui', 'Narantuyaa', 'Altan', 'Gandbold'];
const WINDOW_MS = 2000;
const advances = (i) => i.got('ENTER').filter((x) => x.state === 'advance');

await scenario(
  {
    name: 'horse-archer',
    description: "the reference's networked example; N archers coordinate over the mesh and must re-advance as one unit.",
    timeoutMs: 60_000,
    options: [options.number('--compression <x>', 'archer seconds per real second', 100)],
  },
  async (t, { compression }) => {
    const archers = await t.startAll(
      Array.from({ length: t.nodes }, (_, i) => {
        const name = `${ROOTS[i % ROOTS.length]}${i >= ROOTS.length ? i : ''}.${t.id}`;
        return { name, program: 'archer', broker: i, config: { tx: `archer.${t.id}.${name}`, rx: `archer.${t.id}.#`, trace: 'color', params: { compression } } };
      }),
    );
    t.send({ cmd: 'go' });
    await t.outcome('two advances of every archer', () => archers.every((i) => advances(i).length >= 2));
    await t.stop();

    const n = archers.length;
    const second = archers.map((i) => ({ name: i.name, ...advances(i)[1] }));
    const first = second.reduce((a, b) => (b.at < a.at ? b : a));
    const followers = second.filter((s) => s !== first);
    t.check(`every archer knows the other ${n - 1}`, archers.filter((i) => (i.got('OTHERS').at(-1)?.names.length ?? 0) !== n - 1).map((i) => `${i.name} knows ${JSON.stringify(i.got('OTHERS').at(-1)?.names ?? [])}`));
    t.check('every archer made a feigned retreat before advancing again', () => archers.filter((i) => !i.got('ENTER').some((x) => x.state === 'feigned_retreat' && x.at < advances(i)[1].at)).map((i) => i.name));
    t.check(`the unit re-advanced together: within ${WINDOW_MS} ms of ${first.name} (${first.cause})`, [
      ...followers.filter((s) => s.at - first.at > WINDOW_MS).map((s) => `${s.name} advanced ${s.at - first.at} ms later (${s.cause})`),
      ...followers.filter((s) => !String(s.cause).startsWith('Other_Advance_War_Cry') && !String(s.cause).startsWith('Advance_War_Cry')).map((s) => `${s.name} advanced because of ${s.cause}`),
    ]);
    t.check('the war cries and scribbles are in distributed.log', t.distributed.some((l) => / # .* has \d+ arrows$/.test(l)) ? [] : ['no "has N arrows" scribble']);
  },
);
