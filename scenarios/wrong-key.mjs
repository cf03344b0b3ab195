#!/usr/bin/env node
// wrong-key: the last instance has a mesh key of its own. Every instance transmits PING three
// times. Checks: the odd one got nothing and the others nothing from it; the others counted
// its messages as undecryptable (networkStats().mesh.droppedBy.undecryptable) and reported it, and
// still got every PING from each other. A zx script (node or zx).
//   node scenarios/wrong-key.mjs --nodes 3 [--timeout S] [--backend local]
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureBuilt } from '../scripts/ensure-built.mjs';

ensureBuilt(); // a checkout runs the compiled package (dist/), rebuilt when a source changed
const { scenario } = await import('miros-rabbitmq/scenario');
const { generateKey } = await import('miros-rabbitmq');

const ROUNDS = 3;
const pings = (i, from) => i.got('GOT').filter((g) => g.signal === 'PING' && g.payload?.from === from).length;

await scenario(
  {
    name: 'wrong-key',
    description: 'one instance has another mesh key; it is isolated, the others report it and keep working.',
    timeoutMs: 20_000,
  },
  async (t) => {
    const last = t.nodes - 1;
    const all = await t.startAll(
      Array.from({ length: t.nodes }, (_, i) => ({ name: `${i === last ? 'odd' : 'key'}${i}-${t.id}`, program: 'peer', broker: i, config: i === last ? { meshKey: generateKey() } : {} })),
    );
    const odd = all[last];
    const normal = all.slice(0, last);
    const normalComplete = () => normal.flatMap((a) => normal.filter((b) => b !== a && pings(a, b.name) < ROUNDS).map((b) => `${a.name} got ${pings(a, b.name)}/${ROUNDS} PINGs of ${b.name}`));

    t.expectLoss([odd.name], 'another mesh key'); // its events reach nobody: the log check expects it
    for (let round = 1; round <= ROUNDS; round++) {
      for (const i of all) i.send({ cmd: 'transmit', signal: 'PING', payload: { from: i.name, round } });
      await sleep(150);
    }
    await t.outcome('every PING between the others', () => normalComplete().length === 0);
    await t.stop(); // the final networkStats (STATS) come at stop

    const decrypt = (i) => i.stats?.mesh.droppedBy.undecryptable ?? 0;
    t.check('the others keep working: every PING between them arrived', normalComplete());
    t.check(`${odd.name} (other mesh key) is isolated`, [
      ...(odd.got('GOT').length ? [`${odd.name} got ${odd.got('GOT').length} events`] : []),
      ...normal.filter((i) => pings(i, odd.name) > 0).map((i) => `${i.name} got PINGs of ${odd.name}`),
      ...(decrypt(odd) >= ROUNDS * normal.length ? [] : [`${odd.name} dropped only ${decrypt(odd)} undecryptable messages`]),
    ]);
    t.check(`the others report the messages of ${odd.name} as undecryptable`, [
      ...normal.filter((i) => decrypt(i) < ROUNDS).map((i) => `${i.name}: mesh.droppedBy.undecryptable = ${decrypt(i)}, expected >= ${ROUNDS}`),
      ...normal.filter((i) => !i.got('WARN').some((w) => /decrypt/.test(w.message) && w.message.includes(odd.name))).map((i) => `${i.name} did not report ${odd.name}`),
    ]);
  },
);
