// A scenario script's command line and life: scenario() parses the options every scenario
// shares (--nodes --backend --timeout --logs --dir --tls --topology, plus the script's own),
// opens a testbed (testbed.ts), runs the body, stops everything, runs the log check and sets
// process.exitCode (0 pass, 1 fail, 2 usage error).
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { exitQuietlyWhenTheReaderLeaves } from '../cli-output.ts';
import { UnsupportedError } from '../cluster/errors.ts';
import { type Testbed, drive, testbed } from './testbed.ts';

/** A script's own option (beside the common ones), as `options.count('--laps <n>', …)` makes it. */
export interface ScenarioOption {
  /** commander flags: '--laps <n>' (its value is args.laps; '--resume-p99 <s>' is args.resumeP99). */
  flags: string;
  description: string;
  default?: unknown;
  /** Parses and validates the value; throw an Error to reject it (a usage error, exit 2). */
  parse?: (value: string) => unknown;
  choices?: string[];
}

/** Makers of the common kinds of options. */
export const options = {
  /** A whole number ≥ min. */
  count: (flags: string, description: string, dflt?: number, min = 1): ScenarioOption => ({ flags, description, default: dflt, parse: wholeNumber(min) }),
  /** A number > 0. */
  number: (flags: string, description: string, dflt?: number): ScenarioOption => ({ flags, description, default: dflt, parse: positiveNumber }),
  /** Any value, checked by `parse` (throw to reject). */
  custom: (flags: string, description: string, parse: (value: string) => unknown, dflt?: unknown): ScenarioOption => ({ flags, description, default: dflt, parse }),
};

function wholeNumber(min: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < min) throw new Error(`expected a whole number >= ${min}`);
    return n;
  };
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new Error('expected a number > 0');
  return n;
}

/** What every scenario's command line gives (and the script's own options beside it). */
export interface ScenarioArgs {
  nodes: number;
  backend: 'local' | 'netns' | 'docker';
  topology?: 'mesh' | 'clustered';
  /** --timeout in seconds, when given. */
  timeout?: number;
  logs?: string;
  dir?: string;
  tls?: 'on' | 'only';
  /** --observe: Prometheus (mirosnet observe) scrapes the nodes and the instances. */
  observe?: boolean;
  /** --json: the summary (summary.json) on stdout at the end, progress on stderr. */
  json?: boolean;
  [own: string]: unknown;
}

export interface ScenarioDefinition {
  name: string;
  /** One line for --help. */
  description: string;
  /** outcome()'s timeout unless --timeout says otherwise, ms. */
  timeoutMs: number;
  options?: ScenarioOption[];
  /** Extra --help lines (an example command). */
  help?: string;
  /**
   * Checks the parsed command line as a whole, before any cluster is touched: throw an
   * UnsupportedError for what this backend cannot do (exit 2, with its hint).
   */
  validate?: (args: ScenarioArgs & Record<string, unknown>) => void;
}

/** The scenario's command line; usage errors and --help throw CommanderError (exitOverride). */
export function scenarioCommand(def: ScenarioDefinition): Command {
  const { name } = def;
  const parser = (parse: (v: string) => unknown) => (v: string) => {
    try {
      return parse(v);
    } catch (err) {
      throw new InvalidArgumentError((err as Error).message);
    }
  };
  const cmd = new Command(name)
    .usage('[options]')
    .description(def.description)
    .exitOverride()
    .configureOutput({
      writeOut: (str) => process.stdout.write(str),
      writeErr: (str) => process.stderr.write(str),
      // one line: commander's suggestion ("Did you mean …?") goes on the same line
      outputError: (str, write) => write(`scenario ${name}: ${str.replace(/^error: /, '').trim().replace(/\s*\n\s*/g, ' ')} (--help for the options)\n`),
    })
    .addOption(new Option('--nodes <n>', 'brokers and instances').argParser(parser(wholeNumber(2))).default(3))
    .addOption(new Option('--backend <kind>', 'where brokers and instances run (netns: root; docker: instances in containers of the instance image)').choices(['local', 'netns', 'docker']).default('local'));
  for (const o of def.options ?? []) {
    const opt = new Option(o.flags, o.description);
    if (o.parse) opt.argParser(parser(o.parse));
    if (o.choices) opt.choices(o.choices);
    if (o.default !== undefined) opt.default(o.default);
    cmd.addOption(opt);
  }
  return cmd
    .addOption(new Option('--topology <kind>', 'how instances link to the brokers (MIROS_TOPOLOGY for them; clustered needs a cluster brought up with --topology clustered)').choices(['mesh', 'clustered']))
    .addOption(new Option('--timeout <seconds>', "how long to wait for the outcome (default: the scenario's own)").argParser(parser(positiveNumber)))
    .addOption(new Option('--logs <dir>', 'where logs/<name>-<timestamp>/ goes (default ./logs)'))
    .addOption(new Option('--dir <path>', 'cluster state directory (default: $MIROS_CLUSTER_DIR, else .cluster in the current directory)'))
    .addOption(new Option('--tls [mode]', 'brokers with TLS: on or only (the instances then use amqps:// with the cluster CA)').choices(['on', 'only']).preset('on'))
    .addOption(new Option('--observe', "Prometheus scrapes every node and instance (mirosnet observe, started if needed; it stays up: mirosnet observe --stop)"))
    .addOption(new Option('--json', "print the run's summary (summary.json) on stdout at the end; progress goes to stderr"))
    .addHelpText('after', `\n${def.help ?? `Run: make scenario S=${name} N=3   or   node scenarios/${name}.mjs --nodes 3`}\nExit status: 0 pass, 1 fail, 2 usage error.`);
}

/**
 * The script's arguments: process.argv after the script. Run as `zx script.mjs …`, zx's
 * own entry is argv[1] and the script's path comes first: it is left out.
 */
export function scriptArgv(argv: string[] = process.argv): string[] {
  const rest = argv.slice(2);
  const first = rest[0];
  if (first && /\.(mjs|cjs|js|ts|mts)$/.test(first) && existsSync(first) && basename(argv[1] ?? '') !== basename(first)) return rest.slice(1);
  return rest;
}

/**
 * A scenario script's whole life: parses the command line (--help: 0; a usage error: one line
 * on stderr, 2), opens the run (cluster brought up if needed), runs `body`, then stops
 * everything and writes the summary: the body's checks, every instance's exit, the log check.
 * Sets process.exitCode and resolves to it: 0 pass, 1 fail, 2 what the backend cannot do.
 */
export async function scenario<A extends Record<string, unknown> = Record<string, unknown>>(
  def: ScenarioDefinition,
  body: (t: Testbed, args: ScenarioArgs & A) => Promise<void>,
  argv: string[] = scriptArgv(),
): Promise<number> {
  const status = await runScript(def, body, argv);
  process.exitCode = status;
  return status;
}

async function runScript<A>(def: ScenarioDefinition, body: (t: Testbed, args: ScenarioArgs & A) => Promise<void>, argv: string[]): Promise<number> {
  exitQuietlyWhenTheReaderLeaves(); // `mirosnet scenario NAME --help | head -1`: this script is the child writing
  const cmd = scenarioCommand(def);
  try {
    cmd.parse(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    throw err;
  }
  const args = cmd.opts<ScenarioArgs & A>();
  try {
    def.validate?.(args);
    const t = await testbed(def.name, {
      nodes: args.nodes,
      backend: args.backend,
      topology: args.topology,
      dir: args.dir,
      logsRoot: args.logs,
      tls: args.tls,
      observe: args.observe,
      timeoutMs: args.timeout !== undefined ? args.timeout * 1000 : def.timeoutMs,
      timeoutGiven: args.timeout !== undefined,
      // --json: stdout carries the summary alone
      ...(args.json ? { log: (l: string) => void process.stderr.write(`[${def.name}] ${l}\n`) } : {}),
    });
    await drive(t, () => body(t, args));
    const result = await t.result();
    if (args.json) process.stdout.write(readFileSync(join(result.logDir, 'summary.json'), 'utf8'));
    return result.pass ? 0 : 1;
  } catch (err) {
    if (err instanceof UnsupportedError) {
      process.stderr.write(`scenario ${def.name}: ${err.format()}\n`);
      return 2; // what this backend or cluster cannot do: a usage error, no summary
    }
    throw err;
  }
}
