// mesh-ring: N charts pass a token around the ring K times over the mesh (each member's
// txRoutingKey names its successor); every hop must arrive once, where expected, in order.
import { ringHops, type Hop } from '../checks.ts';
import type { Instance, Run, Scenario } from '../runner.ts';

export function ringMembers(run: string, nodes: number, params: { laps: number; delayMs?: number }, prefix = 'ring') {
  const name = (i: number) => `${prefix}${i}-${run}`;
  return Array.from({ length: nodes }, (_, i) => ({
    name: name(i),
    program: 'ring',
    broker: i,
    config: {
      tx: `ring.${run}.${(i + 1) % nodes}`,
      rx: `ring.${run}.${i}`,
      trace: 'plain' as const,
      params: { first: i === 0, hops: params.laps * nodes, delayMs: params.delayMs ?? 0 },
    },
  }));
}

export function hopsOf(instances: Instance[]): Hop[] {
  return instances.flatMap((i) => i.got('HOP').map((h) => ({ ...h, by: i.name })));
}

export function ringDone(run: Run, total: number): boolean {
  return run.instances[0].got('HOP').some((h) => h.hop === total);
}

export function meshRing(opts: { laps?: number } = {}): Scenario {
  const laps = opts.laps ?? 3;
  return {
    name: 'mesh-ring',
    timeoutMs: 30_000,
    instances: ({ nodes, run }) => ringMembers(run, nodes, { laps }),
    done: (run) => ringDone(run, laps * run.nodes),
    checks: (run) => [ringHops(hopsOf(run.instances), run.instances.map((i) => i.name), laps * run.nodes)],
  };
}
