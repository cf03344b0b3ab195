#!/usr/bin/env node
// key-rotation: the mesh key is rotated across running instances in two steps, without a
// restart, while every instance keeps transmitting; then the old key is retired. Every PING
// must arrive once at every other instance, none dropped. The rollout and its checks are the
// definition in ops/scenario/defs/key-rotation.ts: this script plays it in a testbed.
//   node scenarios/key-rotation.mjs --nodes 3 [--timeout S] [--backend local]
import { ensureBuilt } from '../scripts/ensure-built.mjs';

ensureBuilt(); // a checkout runs the compiled package (dist/), rebuilt when a source changed
const { scenario } = await import('miros-rabbitmq/scenario');
const { keyRotation } = await import('../dist/ops/scenario/defs/key-rotation.js');

await scenario(
  {
    name: 'key-rotation',
    description: 'the mesh key is rotated in two steps across running instances under continuous traffic; no event may be lost.',
    timeoutMs: 90_000,
  },
  async (t) => {
    await t.play(keyRotation());
  },
);
