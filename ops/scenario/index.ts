// Scenarios by name, and the entry point the thin scripts in scenarios/ call.
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { brokerRestart } from './defs/broker-restart.ts';
import { DEFAULT_CHAOS_KINDS, chaos } from './defs/chaos.ts';
import { parseKinds, type ChaosKind } from './chaos-schedule.ts';
import { horseArcher } from './defs/horse-archer.ts';
import { lateJoiner } from './defs/late-joiner.ts';
import { meshRing } from './defs/mesh-ring.ts';
import { scribble } from './defs/scribble.ts';
import { spy } from './defs/spy.ts';
import { trace } from './defs/trace.ts';
import { wrongKey } from './defs/wrong-key.ts';
import { runScenario, type RunResult, type Scenario } from './runner.ts';
import { UnsupportedError } from '../cluster/errors.ts';

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
  tls?: 'on' | 'only';
  /** chaos: the schedule's seed, its number of fault cycles, the fault kinds, instances per host. */
  seed?: number;
  cycles?: number;
  faults?: ChaosKind[];
  instances?: number;
  /** chaos: the resume p99 bound in seconds (0: reported, not checked). */
  resumeP99?: number;
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
  chaos: (a) => chaos({ seed: a.seed, cycles: a.cycles, kinds: a.faults, instances: a.instances, resumeP99MaxMs: a.resumeP99 === undefined ? undefined : a.resumeP99 * 1000, backend: a.backend as 'local' | 'netns' | 'docker' | undefined }),
};

/** One line each, for --help (the scenario scripts' header comments say the same). */
const DESCRIPTIONS: Record<string, string> = {
  'mesh-ring': 'N charts pass a token around the ring --laps times over the mesh; every hop must arrive once, at the right member, in order.',
  trace: 'every instance joins the snoop trace network and changes state twice; its changes must show in every output.',
  spy: 'the first instance joins spy + trace, the others trace only; spy lines must come only from the first, as in its local spy log.',
  scribble: 'snoopScribble from every instance reaches the monitor in the scribble format.',
  'wrong-key': 'one instance has another mesh key; it is isolated, the others report it and keep working.',
  'late-joiner': 'an instance and its broker (node N+1) start after the others; it must be discovered and join the mesh without restarts.',
  'broker-restart': 'the broker of ring member 1 is stopped and started during a token ring; no token may be lost.',
  'horse-archer': "the reference's networked example; N archers coordinate over the mesh and must re-advance as one unit.",
  chaos: 'every instance sends continuously while a seeded schedule injects, holds (1-5 s) and heals faults; then every promised event must have arrived once, in order, and traffic resumed after each heal (netns or docker).',
};

/** Options that only some scenarios use: the others reject them rather than ignore them. */
const USES: Record<string, readonly ('laps' | 'compression' | 'chaos')[]> = {
  chaos: ['chaos'],
  'mesh-ring': ['laps'],
  'broker-restart': ['laps'],
  'horse-archer': ['compression'],
};

export function scenarioNames(): string[] {
  return [...Object.keys(SCENARIOS), 'scale'];
}

function wholeNumber(min: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`expected a whole number >= ${min}`);
    return n;
  };
}

function faultKinds(value: string): ChaosKind[] {
  try {
    return parseKinds(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a number > 0');
  return n;
}

/** The scenario's command line; usage errors and --help throw CommanderError (exitOverride). */
function scenarioCommand(name: string): Command {
  const uses = USES[name] ?? [];
  const cmd = new Command(name)
    .usage('[options]')
    .description(DESCRIPTIONS[name] ?? '')
    .exitOverride()
    .configureOutput({
      writeOut: (str) => process.stdout.write(str),
      writeErr: (str) => process.stderr.write(str),
      // one line: commander's suggestion ("Did you mean …?") goes on the same line
      outputError: (str, write) => write(`scenario ${name}: ${str.replace(/^error: /, '').trim().replace(/\s*\n\s*/g, ' ')} (--help for the options)\n`),
    })
    .addOption(new Option('--nodes <n>', 'brokers and instances').argParser(wholeNumber(2)).default(3))
    .addOption(new Option('--backend <kind>', 'where brokers and instances run (netns: root; docker: instances in containers of the instance image)').choices(['local', 'netns', 'docker']).default('local'));
  if (uses.includes('laps')) cmd.addOption(new Option('--laps <n>', 'laps of the token around the ring').argParser(wholeNumber(1)).default(3));
  if (uses.includes('chaos')) {
    cmd
      .addOption(new Option('--seed <n>', 'seed of the fault schedule (same seed, same schedule)').argParser(wholeNumber(0)).default(1))
      .addOption(new Option('--cycles <n>', 'fault cycles').argParser(wholeNumber(1)).default(100))
      .addOption(new Option('--faults <kinds>', `fault kinds, comma-separated (default ${DEFAULT_CHAOS_KINDS.join(',')})`).argParser(faultKinds))
      .addOption(new Option('--instances <n>', 'instances per host').argParser(wholeNumber(1)).default(1))
      .addOption(new Option('--resume-p99 <seconds>', 'the bound of the resume time p99 (0: reported, not checked)').argParser(wholeNumber(0)).default(5));
  }
  if (uses.includes('compression')) cmd.addOption(new Option('--compression <x>', 'archer seconds per real second').argParser(positiveNumber).default(100));
  return cmd
    .addOption(new Option('--topology <kind>', "how instances link to the brokers (MIROS_TOPOLOGY for them; clustered needs a cluster brought up with --topology clustered)").choices(['mesh', 'clustered']))
    .addOption(new Option('--timeout <seconds>', "how long to wait for the outcome (default: the scenario's own)").argParser(positiveNumber))
    .addOption(new Option('--logs <dir>', 'where logs/<name>-<timestamp>/ goes (default ./logs)'))
    .addOption(new Option('--dir <path>', 'cluster state directory (default: $MIROS_CLUSTER_DIR, else .cluster in the current directory)'))
    .addOption(new Option('--tls [mode]', 'brokers with TLS: on or only (the instances then use amqps:// with the cluster CA)').choices(['on', 'only']).preset('on'))
    .addHelpText('after', `\nRun: make scenario S=${name} N=3   or   node scenarios/${name}.mjs --nodes 3\nExit status: 0 pass, 1 fail, 2 usage error.`);
}

/**
 * Runs scenario `name` with its raw command-line arguments (process.argv.slice(2)) and
 * resolves to the exit status: 0 pass, 1 fail, 2 usage error (one line on stderr; --help: 0).
 */
export async function main(name: string, argv: string[]): Promise<number> {
  if (name === 'scale') return (await import('./scale/cli.ts')).scaleMain(argv); // two topologies in one run: its own runner
  const make = SCENARIOS[name];
  if (!make) {
    process.stderr.write(`no scenario '${name}'; the scenarios are: ${scenarioNames().join(', ')}\n`);
    return 2;
  }
  const cmd = scenarioCommand(name);
  try {
    cmd.parse(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    throw err;
  }
  const o = cmd.opts<{ nodes: number; backend: 'local' | 'netns' | 'docker'; topology?: 'mesh' | 'clustered'; laps?: number; compression?: number; timeout?: number; logs?: string; dir?: string; tls?: 'on' | 'only' } & Pick<ScenarioArgs, 'seed' | 'cycles' | 'faults' | 'instances' | 'resumeP99'>>();
  const args: ScenarioArgs = { nodes: o.nodes, backend: o.backend, laps: o.laps, compression: o.compression, timeout: o.timeout, logs: o.logs, dir: o.dir, tls: o.tls, seed: o.seed, cycles: o.cycles, faults: o.faults, instances: o.instances, resumeP99: o.resumeP99 };
  let result: RunResult;
  try {
    result = await runScenario(make(args), {
      nodes: o.nodes,
      backend: o.backend,
      timeoutMs: o.timeout !== undefined ? o.timeout * 1000 : undefined,
      logsRoot: o.logs,
      dir: o.dir,
      tls: o.tls,
      topology: o.topology,
    });
  } catch (err) {
    if (err instanceof UnsupportedError) {
      process.stderr.write(`scenario ${name}: ${err.format()}\n`);
      return 2; // what this backend or cluster cannot do: a usage error
    }
    throw err;
  }
  return result.pass ? 0 : 1;
}
