// wrong-key: the last instance has a mesh key of its own. Every instance transmits PING
// three times. Checks: the odd one got nothing and the others nothing from it; the others
// counted its messages as undecryptable (networkStats().mesh.droppedBy.decrypt) and
// reported it, and still got every PING from each other.
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateKey } from '../../../runtime/index.ts';
import { sleep } from '../../util/wait.ts';
import type { Instance, Run, Scenario } from '../runner.ts';
import { check } from '../summary.ts';

const ROUNDS = 3;

const pings = (i: Instance, from: string) => i.got('GOT').filter((g) => g.signal === 'PING' && g.payload?.from === from).length;

function normalComplete(run: Run): string[] {
  const normal = run.instances.slice(0, -1);
  const problems: string[] = [];
  for (const a of normal) for (const b of normal) if (a !== b && pings(a, b.name) < ROUNDS) problems.push(`${a.name} got ${pings(a, b.name)}/${ROUNDS} PINGs of ${b.name}`);
  return problems;
}

export function wrongKey(): Scenario {
  return {
    name: 'wrong-key',
    timeoutMs: 20_000,
    instances: ({ nodes, run }) =>
      Array.from({ length: nodes }, (_, i) => ({
        name: `${i === nodes - 1 ? 'odd' : 'key'}${i}-${run}`,
        program: 'peer',
        broker: i,
        config: i === nodes - 1 ? { meshKey: generateKey() } : {},
      })),
    go: async (run) => {
      const odd = run.instances.at(-1)!.name; // its events reach nobody: a loss log check expects
      appendFileSync(join(run.logDir, 'faults.jsonl'), `${JSON.stringify({ kind: 'expect-loss', senders: [odd], reason: 'another mesh key', at: new Date().toISOString() })}\n`);
      for (let round = 1; round <= ROUNDS; round++) {
        for (const i of run.instances) i.send({ cmd: 'transmit', signal: 'PING', payload: { from: i.name, round } });
        await sleep(150);
      }
    },
    done: (run) => normalComplete(run).length === 0,
    checks: (run) => {
      const odd = run.instances.at(-1)!;
      const normal = run.instances.slice(0, -1);
      const decrypt = (i: Instance) => i.stats?.mesh.droppedBy.decrypt ?? 0;
      return [
        check('the others keep working: every PING between them arrived', normalComplete(run)),
        check(`${odd.name} (other mesh key) is isolated`, [
          ...(odd.got('GOT').length ? [`${odd.name} got ${odd.got('GOT').length} events`] : []),
          ...normal.filter((i) => pings(i, odd.name) > 0).map((i) => `${i.name} got PINGs of ${odd.name}`),
          ...(decrypt(odd) >= ROUNDS * normal.length ? [] : [`${odd.name} dropped only ${decrypt(odd)} undecryptable messages`]),
        ]),
        check(`the others report the messages of ${odd.name} as undecryptable`, [
          ...normal.filter((i) => decrypt(i) < ROUNDS).map((i) => `${i.name}: mesh.droppedBy.decrypt = ${decrypt(i)}, expected >= ${ROUNDS}`),
          ...normal.filter((i) => !i.got('WARN').some((w) => /decrypt/.test(w.message) && w.message.includes(odd.name))).map((i) => `${i.name} did not report ${odd.name}`),
        ]),
      ];
    },
  };
}
