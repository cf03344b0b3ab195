// The AMQP behaviour suite (test/amqp-behaviour/cases.ts) against a real RabbitMQ node: the
// third node of the shared local cluster (test/setup/cluster.ts). The same cases run against
// the simulated broker in test/unit/amqp-behaviour-sim.test.ts; where they differ, the
// simulation is wrong. The memory alarm is raised with rabbitmqctl (as net-flow-control does);
// the crash is kill-broker and restart-broker (ops/faults).
import { randomBytes } from 'node:crypto';
import { connect } from 'amqplib';
import { afterAll, describe, it } from 'vitest';
import { defaultDir, openCluster } from '../../ops/cluster/index.ts';
import { rabbitmqctl } from '../../ops/cluster/join.ts';
import { nodeSpec } from '../../ops/cluster/options.ts';
import { killBroker, restartBroker } from '../../ops/faults/index.ts';
import { cases, type Target } from '../amqp-behaviour/cases.ts';
import { brokers } from './net-helpers.ts';

const RUN = randomBytes(3).toString('hex');
const NODE_INDEX = 2;
let alarmOn = false;

async function watermark(value: string): Promise<void> {
  const cluster = await openCluster();
  if (cluster.options.backend === 'docker') throw new Error('amqp-behaviour: the docker backend is not supported here (rabbitmqctl runs in the container)');
  await rabbitmqctl(cluster.options, nodeSpec(cluster.options, cluster.file.nodes[NODE_INDEX]!.index), ['set_vm_memory_high_watermark', value], 20_000);
}

/** Names are unique across the cases of a run: exchanges a case leaves (not auto-deleted) must not meet another case's. */
let names = 0;

function realTarget(): Target {
  const node = brokers()[NODE_INDEX];
  return {
    kind: 'real',
    connect: () => connect(node.amqpUrl),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    alarm: async (on) => {
      alarmOn = on;
      await watermark(on ? '0' : '0.4');
    },
    crashAndRestart: async () => {
      await killBroker(node.name, { dir: defaultDir() });
      await restartBroker(node.name, { dir: defaultDir() });
    },
    unique: (what) => `miros.behaviour.${what}.${RUN}.${++names}`,
  };
}

afterAll(async () => {
  if (alarmOn) await watermark('0.4'); // never leave the alarm on for the next file
});

describe('AMQP behaviour: a real RabbitMQ node', () => {
  for (const c of cases) it(c.name, () => c.run(realTarget()), c.slow ? 180_000 : 60_000);
});
