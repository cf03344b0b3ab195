// late-joiner: N instances run on N brokers, told only of those N. Then broker N+1 starts
// (stopped first if it was already running), and a newcomer on it, told of all N+1,
// transmits HELLO. The others learn its broker from that first message (no restarts),
// answer WELCOME, and later PINGs from them reach it too.
import { startBrokers, stopBroker } from '../brokers.ts';
import { until } from '../../util/wait.ts';
import type { Instance, Run, Scenario } from '../runner.ts';
import { check } from '../summary.ts';

const from = (i: Instance, signal: string) => i.got('GOT').filter((g) => g.signal === signal).map((g) => g.payload?.from);

function missing(run: Run): string[] {
  const late = run.instances.at(-1)!;
  const old = run.instances.slice(0, -1);
  return [
    ...old.filter((o) => !from(late, 'WELCOME').includes(o.name)).map((o) => `${late.name} got no WELCOME from ${o.name}`),
    ...old.filter((o) => !from(late, 'PING').includes(o.name)).map((o) => `${late.name} got no PING from ${o.name}`),
    ...old.filter((o) => !from(o, 'HELLO').includes(late.name)).map((o) => `${o.name} got no HELLO from ${late.name}`),
  ];
}

export function lateJoiner(): Scenario {
  return {
    name: 'late-joiner',
    timeoutMs: 120_000,
    brokers: (nodes) => nodes + 1,
    instances: ({ nodes, run }) => [
      ...Array.from({ length: nodes }, (_, i) => ({ name: `old${i}-${run}`, program: 'peer', broker: i, config: { params: { replies: { HELLO: 'WELCOME' } } } })),
      { name: `late${nodes}-${run}`, program: 'peer', broker: nodes, late: true },
    ],
    go: async (run) => {
      const late = run.instances.at(-1)!;
      if (await stopBroker(run.dir, run.nodes)) run.log(`broker ${run.nodes + 1} was running: stopped it, it must start after the others`);
      run.log(`starting broker ${run.nodes + 1}`);
      const t = Date.now();
      const file = await startBrokers(run.dir, run.nodes + 1);
      run.log(`broker ${run.nodes + 1} up in ${((Date.now() - t) / 1000).toFixed(1)} s`);
      late.config.host = file.nodes[run.nodes].host;
      late.config.hosts = file.nodes.slice(0, run.nodes + 1).map((n) => n.host);
      await run.start(late.name);
      late.send({ cmd: 'transmit', signal: 'HELLO', payload: { from: late.name } });
      const old = run.instances.slice(0, -1);
      if (!(await until(() => old.every((o) => from(late, 'WELCOME').includes(o.name)), 20_000))) return;
      for (const o of old) o.send({ cmd: 'transmit', signal: 'PING', payload: { from: o.name } });
    },
    done: (run) => missing(run).length === 0,
    checks: (run) => {
      const late = run.instances.at(-1)!;
      const ready = late.got('READY')[0];
      return [
        check(`${late.name} joined: HELLO to all, WELCOME and PING from all`, missing(run)),
        check(`${late.name} knew all ${run.nodes + 1} brokers`, ready?.hosts?.length === run.nodes + 1 ? [] : [`it knew ${JSON.stringify(ready?.hosts)}`]),
        check('nobody restarted', run.instances.filter((i) => i.got('READY').length !== 1).map((i) => `${i.name} said READY ${i.got('READY').length} times`)),
      ];
    },
  };
}
