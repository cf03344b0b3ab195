// broker-restart: a token ring (hops 100 ms apart) while the broker of member 1 is
// stopped (SIGTERM to its beam, wait until gone) and started again. Durable queues,
// persistent mesh events and the senders' outboxes must carry the token through:
// every hop arrives once, in order.
import { ringHops } from '../checks.ts';
import { startBrokers, stopBroker } from '../brokers.ts';
import { until } from '../../util/wait.ts';
import type { Scenario } from '../runner.ts';
import { hopsOf, ringDone, ringMembers } from './mesh-ring.ts';

export function brokerRestart(opts: { laps?: number } = {}): Scenario {
  const laps = opts.laps ?? 3;
  return {
    name: 'broker-restart',
    timeoutMs: 120_000,
    instances: ({ nodes, run }) => ringMembers(run, nodes, { laps, delayMs: 100 }, 'br'),
    go: async (run) => {
      run.send({ cmd: 'go' });
      const first = run.instances[0];
      // after one lap, while the next token heads for member 1
      await until(() => first.got('HOP').some((h) => h.hop === run.nodes), 30_000);
      const victim = run.cluster.nodes[1];
      const t = Date.now();
      run.log(`stopping broker ${victim.name} (${victim.host}, pid ${victim.pid})`);
      await stopBroker(run.dir, 1);
      run.log(`broker ${victim.name} gone after ${((Date.now() - t) / 1000).toFixed(1)} s; starting it again`);
      await startBrokers(run.dir, run.cluster.nodes.length);
      run.log(`broker ${victim.name} back after ${((Date.now() - t) / 1000).toFixed(1)} s`);
    },
    done: (run) => ringDone(run, laps * run.nodes),
    checks: (run) => [ringHops(hopsOf(run.instances), run.instances.map((i) => i.name), laps * run.nodes)],
  };
}
