#!/usr/bin/env node
// late-joiner: N instances run on N brokers, told only of those N. Then broker N+1 starts
// (stopped first if it was already running), and a newcomer on it, told of all N+1, transmits
// HELLO. The others learn its broker from that first message (no restarts), answer WELCOME,
// and later PINGs from them reach it too. A zx script (node or zx).
//   node scenarios/late-joiner.mjs --nodes 3 [--timeout S] [--backend local]
import { ensureBuilt } from '../scripts/ensure-built.mjs';

ensureBuilt(); // a checkout runs the compiled package (dist/), rebuilt when a source changed
const { scenario } = await import('miros-rabbitmq/scenario');

const from = (i, signal) => i.got('GOT').filter((g) => g.signal === signal).map((g) => g.payload?.from);

await scenario(
  {
    name: 'late-joiner',
    description: 'an instance and its broker (node N+1) start after the others; it must be discovered and join the mesh without restarts.',
    timeoutMs: 120_000,
  },
  async (t) => {
    const n = t.nodes;
    const old = await t.startAll(Array.from({ length: n }, (_, i) => ({ name: `old${i}-${t.id}`, program: 'peer', broker: i, config: { params: { replies: { HELLO: 'WELCOME' } } } })));
    if (await t.down(n)) t.log(`broker ${n + 1} was running: stopped it, it must start after the others`);
    t.log(`starting broker ${n + 1}`);
    const started = Date.now();
    await t.up(n + 1);
    t.log(`broker ${n + 1} up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const hosts = t.run.cluster.nodes.slice(0, n + 1).map((node) => node.host);
    const late = await t.start({ name: `late${n}-${t.id}`, program: 'peer', broker: n, config: { hosts } });

    const missing = () => [
      ...old.filter((o) => !from(late, 'WELCOME').includes(o.name)).map((o) => `${late.name} got no WELCOME from ${o.name}`),
      ...old.filter((o) => !from(late, 'PING').includes(o.name)).map((o) => `${late.name} got no PING from ${o.name}`),
      ...old.filter((o) => !from(o, 'HELLO').includes(late.name)).map((o) => `${o.name} got no HELLO from ${late.name}`),
    ];
    late.send({ cmd: 'transmit', signal: 'HELLO', payload: { from: late.name } });
    if (await t.outcome(`a WELCOME from each of the ${n}`, () => old.every((o) => from(late, 'WELCOME').includes(o.name)), 20_000)) {
      for (const o of old) o.send({ cmd: 'transmit', signal: 'PING', payload: { from: o.name } });
      await t.outcome(`${late.name} joined`, () => missing().length === 0);
    }
    await t.stop();
    const ready = late.got('READY')[0];
    t.check(`${late.name} joined: HELLO to all, WELCOME and PING from all`, missing());
    t.check(`${late.name} knew all ${n + 1} brokers`, ready?.hosts?.length === n + 1 ? [] : [`it knew ${JSON.stringify(ready?.hosts)}`]);
    t.check('nobody restarted', [...old, late].filter((i) => i.got('READY').length !== 1).map((i) => `${i.name} said READY ${i.got('READY').length} times`));
  },
);
