#!/usr/bin/env node
// scale: M instances (default 50) over a clustered N=3 cluster exchange a token ring and
// all-to-all bursts; once clustered (a member SIGKILLed mid-run: the instances fail over,
// nothing lost, ≤ 2 AMQP connections each) and once as the mesh on the same brokers.
// Two topologies in one run: it keeps its own runner (ops/scenario/scale/).
//   make cluster TOPOLOGY=clustered N=3 && make scenario S=scale INSTANCES=50
//   node scenarios/scale.mjs --instances 50 [--duration 30] [--topologies clustered,mesh]
import { ensureBuilt } from '../scripts/ensure-built.mjs';

ensureBuilt(); // a checkout runs the compiled package (dist/), rebuilt when a source changed
const { scriptArgv } = await import('miros-rabbitmq/scenario');
const { scaleMain } = await import('../dist/ops/scenario/scale/cli.js');
process.exitCode = await scaleMain(scriptArgv());
