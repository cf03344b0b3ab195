// Building blocks the bundled scenarios share (and yours may use): a token ring of `ring`
// instances, and toggling `peer` instances for the snoop scenarios.
import { traceLine, type Hop } from './checks.ts';
import type { Instance, InstanceSpec, Run } from './runner.ts';
import { sleep } from '../util/wait.ts';

/**
 * `nodes` ring members, member i on broker i, each sending to the next: the first starts the
 * token, which makes `laps` laps (laps × nodes hops), `delayMs` between hops.
 */
export function ringMembers(run: string, nodes: number, params: { laps: number; delayMs?: number }, prefix = 'ring'): InstanceSpec[] {
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

/** Every hop the ring members reported (their HOP control lines). */
export function hopsOf(instances: Instance[]): Hop[] {
  return instances.flatMap((i) => i.got('HOP').map((h) => ({ ...h, by: i.name })));
}

/** The state changes toggleTwice causes in a `peer`. */
export const TOGGLES = ['e->TOGGLE() idle->busy', 'e->TOGGLE() busy->idle'];

/** Posts TOGGLE to every instance, twice, 200 ms apart. */
export async function toggleTwice(run: Run): Promise<void> {
  run.send({ cmd: 'post', signal: 'TOGGLE' });
  await sleep(200);
  run.send({ cmd: 'post', signal: 'TOGGLE' });
}

/** distributed.log has the last toggle of each named instance. */
export function allToggled(run: Run, names = run.instances.map((i) => i.name)): boolean {
  return names.every((n) => run.distributed.some((l) => traceLine(n, TOGGLES[1]).test(l)));
}
