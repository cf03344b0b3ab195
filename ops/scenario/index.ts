// Scenarios by name, and the entry point the thin scripts in scenarios/ call.
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { brokerRestart } from './defs/broker-restart.ts';
import { horseArcher } from './defs/horse-archer.ts';
import { keyRotation } from './defs/key-rotation.ts';
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
  'key-rotation': () => keyRotation(),
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
  'key-rotation': 'the mesh key is rotated in two steps across running instances under continuous traffic; no event may be lost.',
};

/** Options that only some scenarios use: the others reject them rather than ignore them. */
const USES: Record<string, readonly ('laps' | 'compression')[]> = {
  'mesh-ring': ['laps'],
  'broker-restart': ['laps'],
  'horse-archer': ['compression'],
};

export function scenarioNames(): string[] {
  return Object.keys(SCENARIOS);
}

function wholeNumber(min: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`expected a whole number >= ${min}`);
    return n;
  };
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
    .addOption(new Option('--backend <kind>', 'where the brokers run (netns: not supported yet)').choices(['local', 'docker']).default('local'));
  if (uses.includes('laps')) cmd.addOption(new Option('--laps <n>', 'laps of the token around the ring').argParser(wholeNumber(1)).default(3));
  if (uses.includes('compression')) cmd.addOption(new Option('--compression <x>', 'archer seconds per real second').argParser(positiveNumber).default(100));
  return cmd
    .addOption(new Option('--timeout <seconds>', "how long to wait for the outcome (default: the scenario's own)").argParser(positiveNumber))
    .addOption(new Option('--logs <dir>', 'where logs/<name>-<timestamp>/ goes (default ./logs)'))
    .addOption(new Option('--dir <path>', 'cluster state directory (default: $MIROS_CLUSTER_DIR, else .cluster in the current directory)'))
    .addHelpText('after', `\nRun: make scenario S=${name} N=3   or   node scenarios/${name}.mjs --nodes 3\nExit status: 0 pass, 1 fail, 2 usage error.`);
}

/**
 * Runs scenario `name` with its raw command-line arguments (process.argv.slice(2)) and
 * resolves to the exit status: 0 pass, 1 fail, 2 usage error (one line on stderr; --help: 0).
 */
export async function main(name: string, argv: string[]): Promise<number> {
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
  const o = cmd.opts<{ nodes: number; backend: 'local' | 'docker'; laps?: number; compression?: number; timeout?: number; logs?: string; dir?: string }>();
  const args: ScenarioArgs = { nodes: o.nodes, backend: o.backend, laps: o.laps, compression: o.compression, timeout: o.timeout, logs: o.logs, dir: o.dir };
  const result: RunResult = await runScenario(make(args), {
    nodes: o.nodes,
    backend: o.backend,
    timeoutMs: o.timeout !== undefined ? o.timeout * 1000 : undefined,
    logsRoot: o.logs,
    dir: o.dir,
  });
  return result.pass ? 0 : 1;
}
