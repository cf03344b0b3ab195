// Scenarios by name, and the entry point the thin scripts in scenarios/ call.
import { brokerRestart } from './defs/broker-restart.ts';
import { horseArcher } from './defs/horse-archer.ts';
import { lateJoiner } from './defs/late-joiner.ts';
import { meshRing } from './defs/mesh-ring.ts';
import { scribble } from './defs/scribble.ts';
import { spy } from './defs/spy.ts';
import { trace } from './defs/trace.ts';
import { wrongKey } from './defs/wrong-key.ts';
import { runScenario, type RunResult, type Scenario } from './runner.ts';

export { runScenario, type RunResult, type Scenario } from './runner.ts';

export interface ScenarioArgs {
  nodes?: number;
  backend?: string;
  laps?: number;
  /** horse-archer: archer seconds per real second (default 100). */
  compression?: number;
  timeout?: number;
  logs?: string;
  dir?: string;
}

export const SCENARIOS: Record<string, (a: ScenarioArgs) => Scenario> = {
  'mesh-ring': (a) => meshRing({ laps: a.laps }),
  trace: () => trace(),
  spy: () => spy(),
  scribble: () => scribble(),
  'wrong-key': () => wrongKey(),
  'late-joiner': () => lateJoiner(),
  'broker-restart': (a) => brokerRestart({ laps: a.laps }),
  'horse-archer': (a) => horseArcher({ compression: a.compression }),
};

/** Runs scenario `name` with parsed command-line arguments; resolves to the exit status. */
export async function main(name: string, args: ScenarioArgs): Promise<number> {
  const make = SCENARIOS[name];
  if (!make) {
    console.error(`no scenario ${name}; there are: ${Object.keys(SCENARIOS).join(', ')}`);
    return 2;
  }
  const backend = args.backend ?? 'local';
  if (backend !== 'local' && backend !== 'docker') {
    console.error(`scenario ${name}: --backend ${backend} is not supported yet (use --backend local or docker)`);
    return 2;
  }
  const nodes = Number(args.nodes ?? 3);
  if (!Number.isInteger(nodes) || nodes < 2) {
    console.error(`scenario ${name}: --nodes must be a whole number >= 2`);
    return 2;
  }
  const result: RunResult = await runScenario(make(args), {
    nodes,
    backend,
    timeoutMs: args.timeout ? Number(args.timeout) * 1000 : undefined,
    logsRoot: args.logs,
    dir: args.dir,
  });
  return result.pass ? 0 : 1;
}
