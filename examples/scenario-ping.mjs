#!/usr/bin/env zx
// ping: the README's example of a scenario written as a script. Two peers on two hosts;
// a transmits PING, b answers PONG; then the hosts are cut apart (netns, docker) and healed,
// and the next PING must still get its PONG.   node scenarios/ping.mjs [--backend netns]
import { $, argv } from 'zx';
import { ensureBuilt } from '../scripts/ensure-built.mjs';

ensureBuilt();
const { testbed } = await import('../dist/ops/testbed.js');
const t = await testbed('ping', { nodes: 2, backend: argv.backend ?? 'local', dir: argv.dir });
const rx = `ping.${t.id}.*`;
const a = await t.start({ name: 'a', program: 'peer', broker: 0, config: { tx: `ping.${t.id}.a`, rx } });
const b = await t.start({ name: 'b', program: 'peer', broker: 1, config: { tx: `ping.${t.id}.b`, rx, params: { replies: { PING: 'PONG' } } } });
const pongs = () => a.got('GOT').filter((g) => g.signal === 'PONG').length;

a.send({ cmd: 'transmit', signal: 'PING', payload: { from: 'a' } });
await t.waitFor('the first PONG', () => pongs() === 1, 20_000);
if (t.run.handle.backend.kind !== 'local') {
  await t.fault.partition('n1', 'n2');
  a.send({ cmd: 'transmit', signal: 'PING', payload: { from: 'a' } }); // waits in a's outbox
  await t.fault.heal();
  await t.waitFor('the PONG after the heal', () => pongs() === 2, 30_000);
}
await $`node bin/mirosnet.mjs cluster status --dir ${t.dir}`;
t.check('every PING got one PONG', b.got('GOT').length === pongs());
process.exitCode = await t.finish();
