// `mirosnet`: the testbed's command line. Each command parses its arguments and calls one
// ops function (ops/cluster/index.ts, ops/scenario, ops/logs); failures become one clear
// message on stderr. Exit statuses: see EXIT (and `mirosnet --help`).
//
// Startup is kept light (`mirosnet keygen` and `--version` load commander and, for keygen,
// fernet): every other module is imported inside the action that needs it, and dockerode
// only ever by the docker backend.
import { resolve } from 'node:path';
import { Argument, Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { registerLogCommands } from './log/cli.ts';
import { scenarioHelp } from './scenario-names.ts'; // light: fs and path only
import { useColor } from '../runtime/net/color.ts';
import { exitQuietlyWhenTheReaderLeaves } from './cli-output.ts';
import { PACKAGE_VERSION } from './package-root.ts'; // the nearest package.json named miros-rabbitmq above this file
import type { ClusterOptions } from './cluster/types.ts';
import type { ConfigError } from '../runtime/net/errors.ts';

exitQuietlyWhenTheReaderLeaves(); // `mirosnet --help | head -1`: no EPIPE stack trace

/** Exit statuses, as documented in the program's help. */
const EXIT = { ok: 0, failure: 1, usage: 2, noCluster: 3 } as const;

const EXIT_HELP = `
Exit status:
  0  success
  1  the command failed (the message says what to do next); cluster status: a node is not healthy
  2  usage error: unknown command or option, or a bad value (the message names it)
  3  cluster status: there is no cluster in the state directory

State directory: --dir, else $MIROS_CLUSTER_DIR, else .cluster in the current directory.
Start here: mirosnet cluster up   (or make cluster in the repository)`;

function int(value: string): number {
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('expected a whole number');
  return n;
}

/** --nodes: 1 to 40 (what resolveOptions accepts), refused here as a bad value (exit 2). */
function nodeCount(value: string): number {
  const n = int(value);
  if (n < 1 || n > 40) throw new InvalidArgumentError('expected a whole number from 1 to 40');
  return n;
}

const backendOption = () => new Option('--backend <kind>', 'local | netns | docker').choices(['local', 'netns', 'docker']);
const dirOption = () => new Option('--dir <path>', 'state directory (default: $MIROS_CLUSTER_DIR, else .cluster in the current directory)');

async function explain(err: unknown): Promise<string> {
  const { OpsError } = await import('./util/errors.ts');
  if (err instanceof OpsError) return err.format();
  if ((err as Error)?.name === 'SecretFileError') return (err as Error).message; // ops/secret-args.ts: names the flag and file
  return `unexpected error (please report it): ${(err as Error)?.stack ?? String(err)}`;
}

/** Runs an action; a failure prints what failed and what to do, and sets exit status 1. */
function action<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      console.error(`mirosnet: ${await explain(err)}`);
      process.exitCode = (err as Error)?.name === 'BadValueError' ? EXIT.usage : EXIT.failure;
    }
  };
}

/** The snoop command's flags, for the library options that its ConfigErrors name. */
const SNOOP_FLAGS: Record<string, string> = {
  rabbitUser: '--user',
  rabbitPassword: '--password',
  snoopTraceEncryptionKey: '--trace-key (or the first of --keys)',
  snoopSpyEncryptionKey: '--spy-key (or the second of --keys)',
  // the mesh key is only a fallback for a missing snoop key: the snoop keys are its flags
  meshEncryptionKey: '--trace-key (or the first of --keys)',
  thisAddress: '--host',
};

/** A ConfigError of the snoop listener in terms of the snoop command's flags. */
function snoopConfigMessage(err: Pick<ConfigError, 'message' | 'option'>): string {
  if (err.option === 'meshEncryptionKey' && / is missing:/.test(err.message)) {
    return 'no snoop keys: pass --keys TRACE,SPY (or --trace-key and --spy-key), or set MESH_ENCRYPTION_KEY (the fallback for a snoop key not given) in the environment or .env';
  }
  let message = err.message.replaceAll('(from option)', '(from the command line)');
  for (const [option, flag] of Object.entries(SNOOP_FLAGS)) {
    message = message.replaceAll(`the ${option} option`, flag).replace(new RegExp(`\\b${option}\\b`, 'g'), flag);
  }
  return message;
}

const program = new Command('mirosnet')
  .description('miros-rabbitmq testbed: RabbitMQ clusters, scenarios, snoop, keys')
  .version(PACKAGE_VERSION, '-V, --version', 'print the version')
  // usage errors throw a CommanderError (mapped to exit status 2 below) instead of exiting 1;
  // set before the commands are added, which inherit it
  .exitOverride()
  .configureOutput({ outputError: (str, write) => write(`mirosnet: ${str.replace(/^error: /, '')}`) })
  .enablePositionalOptions() // so `scenario NAME …` passes the scenario's own options through
  .addHelpText('after', EXIT_HELP);

const cluster = program.command('cluster').description('N RabbitMQ nodes on this machine (their URLs: <dir>/cluster.json)');

cluster
  .command('up')
  .description('start N nodes (idempotent: keeps healthy ones, restarts dead ones, adds or removes nodes)')
  .option('-n, --nodes <n>', 'number of nodes, 1 to 40 (a running cluster grows or shrinks to it)', nodeCount, 3)
  .addOption(backendOption().default('local'))
  .addOption(new Option('--topology <kind>', "mesh: independent brokers; clustered: one RabbitMQ cluster (default: the running cluster's, else mesh)").choices(['mesh', 'clustered']))
  .addOption(dirOption())
  .option('--address-base <ip>', 'address of node 1 (default 127.0.0.11, netns 10.77.0.11, docker 10.78.0.11)')
  .option('--name-prefix <p>', 'node names <p>1, <p>2, … (default n)')
  .option('--dist-port-base <port>', 'Erlang distribution port of node i = base + i', int)
  .option('--epmd-port <port>', 'epmd port of the local backend', int)
  .option('--ns-prefix <p>', 'netns backend: namespaces <p>-1, <p>-2, …')
  .option('--erl-args <flags>', 'extra emulator flags for every node (default +stbt u)')
  .option('--timeout <seconds>', 'per node start timeout', int, 180)
  .option('--verbose', 'docker backend: print every line of the image build (default: its Step lines)')
  .addOption(new Option('--tls [mode]', 'TLS: on (5671 beside 5672) or only (no 5672, management on HTTPS 15671); certificates: mirosnet tls init').choices(['on', 'only']).preset('on'))
  .option('--tls-mutual', 'with --tls: brokers require a client certificate from the CA (mutual TLS)')
  .option('--tls-dir <path>', 'with --tls: the CA and certificates (default <dir>/tls; made if missing)')
  .option('--max-message-size <bytes>', 'brokers refuse a larger publish (default 1048576 = 1 MiB; docs/broker-security.md)', int)
  .option('--keep-data', "refuse, instead of resetting it, a stopped node's data that holds another topology or members outside the nodes asked for")
  .option('--json', 'print the status as JSON (as cluster status --json); progress stays on stderr')
  .action(
    action(async (o: { json?: boolean; keepData?: boolean; maxMessageSize?: number; nodes: number; backend: ClusterOptions['backend']; dir?: string; addressBase?: string; namePrefix?: string; distPortBase?: number; epmdPort?: number; nsPrefix?: string; erlArgs?: string; timeout: number; verbose?: boolean; topology?: ClusterOptions['topology']; tls?: 'on' | 'only'; tlsMutual?: boolean; tlsDir?: string }) => {
      if (o.verbose) process.env.MIROSNET_VERBOSE = '1'; // read by the docker backend's image build
      const { formatTable, status, up } = await import('./cluster/index.ts');
      const started = await up({
        nodes: o.nodes,
        backend: o.backend,
        topology: o.topology,
        dir: o.dir,
        addressBase: o.addressBase,
        namePrefix: o.namePrefix,
        distPortBase: o.distPortBase,
        epmdPort: o.epmdPort,
        nsPrefix: o.nsPrefix,
        erlArgs: o.erlArgs,
        startTimeoutMs: o.timeout * 1000,
        tls: o.tls,
        tlsMutual: o.tlsMutual,
        tlsDir: o.tlsDir,
        maxMessageSize: o.maxMessageSize,
        keepData: o.keepData,
      });
      const s = await status({ dir: started.dir });
      console.log(o.json ? JSON.stringify(s, null, 2) : formatTable(s));
    }),
  );

cluster
  .command('down')
  .description('stop every node and remove what the backend made (processes, namespaces, bridge, containers)')
  .addOption(backendOption())
  .addOption(dirOption())
  .option('--purge', 'also delete the nodes’ data and logs, and the testbed’s records in the state directory (cookie, epmd logs, faults in force); every backend')
  .option('--remove-images', 'docker backend: also remove the broker image (the next up builds it again)')
  .option('--json', 'print what was stopped as JSON')
  .action(
    action(async (o: { backend?: ClusterOptions['backend']; dir?: string; purge?: boolean; removeImages?: boolean; json?: boolean }) => {
      const { down } = await import('./cluster/index.ts');
      const stopped = await down(o);
      if (o.json) return void console.log(JSON.stringify(stopped, null, 2));
      console.log(stopped.nodes.length ? `down: ${stopped.nodes.join(', ')} stopped (${stopped.dir})` : `down: nothing was running in ${stopped.dir}`);
    }),
  );

cluster
  .command('status')
  .description('table of nodes with live health from the management API; exit 1 if a node is not healthy, 3 if there is no cluster')
  .addOption(backendOption().hideHelp()) // accepted for the Makefile; the recorded backend is used
  .addOption(dirOption())
  .option('--json', 'print the status as JSON')
  .action(
    action(async (o: { dir?: string; json?: boolean }) => {
      const { defaultDir, formatTable, status } = await import('./cluster/index.ts');
      const s = await status({ dir: o.dir });
      if (!s.up) {
        const dirArg = resolve(s.dir) === defaultDir() ? '' : ` --dir ${s.dir}`;
        // the state as data (--json) on stdout; the diagnostic always on stderr
        if (o.json) console.log(JSON.stringify(s, null, 2));
        console.error(`mirosnet: no cluster in ${s.dir}: start one with \`mirosnet cluster up${dirArg}\` (in a clone: make cluster)`);
        process.exitCode = EXIT.noCluster;
        return;
      }
      console.log(o.json ? JSON.stringify(s, null, 2) : formatTable(s));
      if (s.nodes.some((n) => !n.healthy)) process.exitCode = EXIT.failure;
    }),
  );

cluster
  .command('env')
  .description('print, to source, the environment a program needs to join the running testbed: hosts, topology, user, the password and TLS files by path (eval "$(mirosnet cluster env)"); never a secret itself')
  .addOption(dirOption())
  .option('--json', 'print the same as one JSON object (the password as its file)')
  .action(
    action(async (o: { dir?: string; json?: boolean }) => {
      const [{ ClusterError, clusterFilePath, defaultDir, readClusterFile }, { ensurePasswordFile, formatJoinEnv, joinVars }] = await Promise.all([import('./cluster/index.ts'), import('./cluster/join-env.ts')]);
      const dir = resolve(o.dir ?? defaultDir());
      const file = readClusterFile(dir);
      if (!file) throw new ClusterError(`no cluster is up in ${dir}`, `start one: mirosnet cluster up${o.dir ? ` --dir ${o.dir}` : ''}`);
      const vars = joinVars(file, clusterFilePath(dir), ensurePasswordFile(dir, file.credentials.password));
      if (!o.json) return void process.stdout.write(formatJoinEnv(file, clusterFilePath(dir), vars));
      console.log(JSON.stringify(Object.fromEntries(vars.map((v) => [v.name, v.value])), null, 2));
    }),
  );

cluster
  .command('logs')
  .description("a node's own RabbitMQ log (every node's tail when NODE is left out)")
  .argument('[node]', 'n1, 1, n1@localhost or the node address')
  .option('-l, --lines <n>', 'last N lines (0 = all)', int, 100)
  .option('-f, --follow', 'keep printing new lines')
  .addOption(dirOption())
  .action(
    action(async (node: string | undefined, o: { lines: number; follow?: boolean; dir?: string }) => {
      const { ClusterError, logs, readClusterFile } = await import('./cluster/index.ts');
      if (node === undefined) {
        const file = readClusterFile(o.dir);
        if (!file) throw new ClusterError('no cluster is up', `start one: mirosnet cluster up${o.dir ? ` --dir ${o.dir}` : ''}`);
        for (const n of file.nodes) console.log(`==> ${n.name} (${n.logFile})\n${logs(n.name, { dir: o.dir, lines: Math.min(o.lines || 20, 20) }).text}\n`);
        return;
      }
      const { file, text } = logs(node, { dir: o.dir, lines: o.lines });
      if (!o.follow) {
        console.log(text);
        return;
      }
      const { spawn } = await import('node:child_process');
      await new Promise<void>((done) => spawn('tail', ['-n', String(o.lines), '-F', file], { stdio: 'inherit' }).on('exit', () => done()));
    }),
  );

// retired: `fault isolate NODE` and `fault heal NODE` are the same cut, on netns and docker alike
for (const [verb, kind] of [
  ['partition', 'isolate'],
  ['heal', 'heal'],
] as const) {
  cluster
    .command(verb, { hidden: true })
    .description(`deprecated: mirosnet fault ${kind} NODE`)
    .argument('<node>', 'n2, 2, rabbit@10.77.0.12 or 10.77.0.12')
    .addOption(dirOption())
    .action(
      action(async (node: string, o: { dir?: string }) => {
        console.error(`mirosnet: \`cluster ${verb}\` is deprecated and goes in the next release: use \`mirosnet fault ${kind} ${node}\``);
        const { injectFault, UnsupportedError } = await import('./faults/index.ts');
        try {
          console.log(JSON.stringify(await injectFault(kind, [node], { dir: o.dir })));
        } catch (err) {
          if (!(err instanceof UnsupportedError)) throw err;
          console.error(`mirosnet: ${err.format()}`);
          process.exitCode = EXIT.usage;
        }
      }),
    );
}

const faultCommand = program
  .command('fault')
  .description('inject a fault and print what was done (--json: its record as one JSON line); `fault list`: the faults in force; `fault heal --all`: undo them all (the kinds: docs/faults.md)');

/** A fault record as one line for people: kind, targets, what was done, and its undo. */
function faultLine(rec: { kind: string; target: string[]; detail: string; undo?: { kind: string; target: string[] } }): string {
  const undo = rec.undo ? ` (undo: mirosnet fault ${[rec.undo.kind, ...rec.undo.target].join(' ')})` : '';
  return `${[rec.kind, ...rec.target].join(' ')}: ${rec.detail}${undo}`;
}

faultCommand
  .command('list')
  .description('the faults in force (injected and not yet undone), one line each (--json: {"faults": [...], "shed": N})')
  .addOption(dirOption())
  .option('--json', 'print them as one JSON document')
  .action(
    action(async (o: { dir?: string; json?: boolean }) => {
      const { faultsInForce } = await import('./faults/in-force.ts');
      const { faults, shed } = faultsInForce(o.dir);
      if (o.json) console.log(JSON.stringify({ faults, shed }));
      else for (const f of faults) console.log(`${f.at}  ${faultLine(f)}`);
      if (!faults.length) console.error('mirosnet: no fault in force');
      if (shed) console.error(`mirosnet: ${shed} older records were shed over the bound`);
    }),
  );

// one subcommand per kind of the catalogue
const { CATALOGUE, checkArgs, usage } = await import('./faults/catalogue.ts');
const catalogue = CATALOGUE;
for (const [kind, spec] of Object.entries(catalogue)) {
  const command = faultCommand
    .command(kind)
    .description(`${spec.summary}${spec.needs ? ' (netns and docker backends, root)' : ''}${spec.heal ? `; undo: fault ${spec.heal}` : ''}`)
    .usage(usage(kind, spec).slice(kind.length + 1) + `${kind === 'heal' ? ' | --all' : ''} [--json] [--dir path]`)
    .argument('[args...]', spec.params.filter((p) => p.kind !== 'flag').map((p) => p.name).join(' '))
    .addOption(dirOption())
    .option('--json', 'print the record as one JSON line');
  for (const p of spec.params.filter((x) => x.kind === 'flag')) command.option(`--${p.name}`, `${kind}: ${p.name} too`);
  if (kind === 'heal') command.option('--all', 'undo every fault in force (fault list): cuts and toxics, paused and killed brokers, alarms, instance faults');
  command.action((args: string[], o: { dir?: string; json?: boolean; all?: boolean } & Record<string, unknown>, cmd: Command) => {
      if (o.all) {
        if (args.length) cmd.error('fault heal --all takes no node (it undoes every fault in force)', { exitCode: EXIT.usage });
        return action(async () => {
          const { healAll } = await import('./faults/in-force.ts');
          const result = await healAll({ dir: o.dir, log: (line: string) => console.error(line) });
          if (o.json) console.log(JSON.stringify(result));
          else for (const rec of result.healed) console.log(faultLine(rec));
          if (!result.healed.length && !result.failed.length) console.error('mirosnet: no fault in force');
          for (const f of result.failed) console.error(`mirosnet: could not undo ${[f.fault.kind, ...f.fault.target].join(' ')}: ${f.error}`);
          if (result.failed.length) process.exitCode = EXIT.failure;
        })();
      }
      // a flag given (--kill) is its word among the arguments
      for (const p of spec.params.filter((x) => x.kind === 'flag')) if (o[p.name] === true) args = [...args, p.name];
      // a wrong number of arguments is a usage error: cmd.error throws a CommanderError (exit 2), outside `action`
      const problem = checkArgs(kind, args);
      if (problem) cmd.error(`fault ${problem}`, { exitCode: EXIT.usage });
      return action(async () => {
        const { injectFault, UnsupportedError } = await import('./faults/index.ts');
        try {
          const rec = await injectFault(kind, args, { dir: o.dir, log: (line: string) => console.error(line) });
          console.log(o.json ? JSON.stringify(rec) : faultLine(rec));
        } catch (err) {
          if (!(err instanceof UnsupportedError)) throw err;
          console.error(`mirosnet: ${err.format()}`); // asking a backend for what it cannot do: a usage error
          process.exitCode = EXIT.usage;
        }
      })();
    });
}
faultCommand.on('command:*', (operands: string[]) =>
  faultCommand.error(`unknown fault kind '${operands[0]}'; the kinds: ${Object.keys(catalogue).join(', ')}, and list`, { exitCode: EXIT.usage }),
);
faultCommand.addHelpText('after', '\nExamples:\n  mirosnet fault pause-broker n2\n  mirosnet fault partition n1 n2 --json\n  mirosnet fault latency n2 200\n  mirosnet fault kill-instance chaos2-1a2b3c\n  mirosnet fault heal\n  mirosnet fault list\n  mirosnet fault heal --all');

program
  .command('scenario')
  .description('run a scenario against the cluster (brought up if needed); an unknown NAME lists the scenarios')
  .argument('<name>', 'mesh-ring, trace, spy, …')
  .argument('[options...]', "the scenario's own options: mirosnet scenario NAME --help")
  .passThroughOptions()
  .allowUnknownOption() // options after NAME (--help too) are the scenario's: its main parses them
  .addHelpText('after', () => `${scenarioHelp()}\nExample: mirosnet scenario mesh-ring --nodes 3 --laps 5`)
  .action(
    action(async (name: string, args: string[]) => {
      const { main } = await import('./scenario/index.ts');
      process.exitCode = await main(name, args);
    }),
  );

program
  .command('tls')
  .description('TLS certificates for the brokers and instances (cluster up --tls, ansible rabbitmq_tls)')
  .command('init')
  .description('make a small CA (unless present) and a server and a client certificate per host, with openssl')
  .option('--dir <path>', 'TLS directory (default: tls in the state directory, $MIROS_CLUSTER_DIR or .cluster)')
  .option('--hosts <list>', "comma-separated addresses or DNS names (default: the running cluster's nodes)")
  .option('--days <n>', 'host certificate validity', int, 825)
  .option('--force', "re-make the hosts' certificates (the CA is kept)")
  .action(
    action(async (o: { dir?: string; hosts?: string; days: number; force?: boolean }) => {
      const [{ initTls }, { defaultDir, readClusterFile, ClusterError }] = await Promise.all([import('./tls/certificates.ts'), import('./cluster/index.ts')]);
      const hosts = o.hosts?.split(',').map((h) => h.trim()).filter(Boolean) ?? readClusterFile()?.nodes.map((n) => n.host);
      if (!hosts?.length) throw new ClusterError('no hosts to make certificates for', 'name them: mirosnet tls init --hosts 10.0.0.5,10.0.0.6');
      const m = await initTls({ dir: o.dir ?? resolve(defaultDir(), 'tls'), hosts, days: o.days, force: o.force, log: (l) => console.error(l) });
      console.log(`CA: ${m.caCert} (its key ${m.caKey} stays here)`);
      for (const h of m.hosts) console.log(`${h.host}: server ${h.serverCert} ${h.serverKey}; client ${h.clientCert} ${h.clientKey}`);
    }),
  );

program
  .command('inventory')
  .description('write an ansible inventory (YAML) for the hosts of a running netns or docker testbed')
  .addOption(dirOption())
  .option('-o, --output <file>', 'write it to FILE instead of printing it')
  .action(
    action(async (o: { dir?: string; output?: string }) => {
      const [{ ClusterError, clusterFilePath, readClusterFile }, { inventoryYaml }] = await Promise.all([import('./cluster/index.ts'), import('./inventory.ts')]);
      const file = readClusterFile(o.dir);
      if (!file) throw new ClusterError(`no testbed in ${clusterFilePath(o.dir)}`, 'start one: mirosnet cluster up --backend netns (or docker)');
      const text = inventoryYaml(file, clusterFilePath(o.dir));
      if (!o.output) return void process.stdout.write(text);
      const { writeFileSync } = await import('node:fs');
      writeFileSync(o.output, text);
      console.log(`mirosnet: wrote ${o.output} (${file.nodes.length} hosts): ansible-playbook -i ${o.output} ansible/site.yml`);
    }),
  );

program
  .command('observe')
  .description("Prometheus (Debian's prometheus) scraping every node's rabbitmq_prometheus and every instance's metrics (file_sd); data under the cluster dir; prints the UI address")
  .option('--stop', 'stop the Prometheus observe started')
  .option('--port <port>', 'its HTTP port on 127.0.0.1', int, 9090)
  .addOption(dirOption())
  .action(
    action(async (o: { stop?: boolean; port: number; dir?: string }) => {
      const [{ defaultDir }, { startObserve, stopObserve }] = await Promise.all([import('./cluster/index.ts'), import('./observe/prometheus.ts')]);
      const dir = resolve(o.dir ?? defaultDir());
      if (o.stop) {
        console.log((await stopObserve(dir)) ? `observe: Prometheus stopped (${dir})` : `observe: none was running for ${dir}`);
        return;
      }
      const started = await startObserve(dir, { port: o.port });
      console.log(`observe: Prometheus ${started.already ? 'already runs' : 'ready'} at ${started.url} (config ${started.config}; mirosnet observe --stop ends it)`);
    }),
  );

program
  .command('install-deps')
  .description('install rabbitmq-server (and iproute2 with --netns, the test packages with --test) from the distribution if missing (root, Debian/Ubuntu)')
  .option('--observe', "also install Debian's prometheus (mirosnet observe)")
  .option('--netns', 'also require iproute2 for the netns backend')
  .option('--test', "also install what the test suite needs (python3-cryptography for the Fernet cross-check, iproute2 for the netns suite, chromium for the browser tests, faketime for the clock-step fault); without root it only warns")
  .action(
    action(async (o: { netns?: boolean; test?: boolean; observe?: boolean }) => {
      const { ensureRabbitmq } = await import('./cluster/install.ts');
      await ensureRabbitmq({ netns: o.netns, testing: o.test, observe: o.observe });
      console.log('install-deps: rabbitmq-server is installed');
    }),
  );

program
  .command('keygen')
  .description('print a new Fernet key (for a network’s encryption: MESH_ENCRYPTION_KEY, SNOOP_*_ENCRYPTION_KEY)')
  .action(
    action(async () => {
      const { generateKey } = await import('../runtime/net/fernet.ts');
      console.log(generateKey());
    }),
  );

program
  .command('snoop')
  .description('join the snoop trace and spy networks as a passive observer (no chart) and write their lines')
  .option('--keys-file <file>', 'snoop keys from a file: TRACE[,SPY] (or $SNOOP_KEYS_FILE; default $SNOOP_TRACE_ENCRYPTION_KEY, $SNOOP_SPY_ENCRYPTION_KEY or .env; make one: mirosnet keygen)')
  .option('--keys <trace[,spy]>', 'snoop keys on the command line (visible in ps: prefer --keys-file)')
  .option('--trace-key <key>', 'snoop trace key (visible in ps: prefer --keys-file)')
  .option('--spy-key <key>', 'snoop spy key (visible in ps: prefer --keys-file)')
  .option('--host <address>', 'broker to consume from (default: node 1 of the cluster file, else this host)')
  .option('--user <name>', 'RabbitMQ user (default $RABBIT_USER, .env, or the cluster file)')
  .option('--password-file <file>', 'RabbitMQ password from a file (or $RABBIT_PASSWORD_FILE; default $RABBIT_PASSWORD, .env, or the cluster file)')
  .option('--password <password>', 'RabbitMQ password on the command line (visible in ps: prefer --password-file)')
  .addOption(new Option('--only <network>', 'listen to one network only (default both)').choices(['trace', 'spy']))
  .option('--color', 'colour sender names and scribbles as the library does (default: on a terminal, unless NO_COLOR is set)')
  .option('--no-color', 'never colour')
  .option('--out <file>', 'append the lines to this file instead of printing them')
  .addOption(dirOption())
  .action(
    action(async (o: { keys?: string; keysFile?: string; passwordFile?: string; traceKey?: string; spyKey?: string; host?: string; user?: string; password?: string; only?: 'trace' | 'spy'; color?: boolean; out?: string; dir?: string }) => {
      const [{ startSnoopListener }, { readClusterFile }, { ClusterError }, { BrokerUnreachableError, ConfigError, MirosNetError }, { BadValueError }] = await Promise.all([
        import('./logs/snoop-listener.ts'),
        import('./cluster/cluster-file.ts'),
        import('./cluster/errors.ts'),
        import('../runtime/net/errors.ts'),
        import('./util/errors.ts'),
      ]);
      const secrets = (await import('./secret-args.ts')).resolveSecrets(o);
      const file = readClusterFile(o.dir);
      const fromEnv = (name: string) => process.env[name] !== undefined;
      const listener = await startSnoopListener({
        host: o.host ?? file?.nodes[0]?.host,
        rabbitUser: o.user ?? (fromEnv('RABBIT_USER') ? undefined : file?.credentials.user),
        rabbitPassword: secrets.password ?? (fromEnv('RABBIT_PASSWORD') ? undefined : file?.credentials.password),
        traceKey: secrets.traceKey,
        spyKey: secrets.spyKey,
        networks: o.only ? [o.only] : undefined,
        color: useColor(o.color ?? 'auto', o.out ? false : process.stdout.isTTY), // a file is no terminal
        out: o.out,
        // a TLS testbed: its CA (and, with mutual TLS, node 1's client certificate), unless RABBIT_TLS* say otherwise
        tls: file?.tls && !Object.keys(process.env).some((k) => k.startsWith('RABBIT_TLS')) ? (await import('./tls/client-settings.ts')).clientTlsOptions(file, o.host ?? file.nodes[0].host) : undefined,
      }).catch((err: unknown) => {
        if (err instanceof ConfigError) {
          const hint =
            err.option === 'rabbitUser' || err.option === 'rabbitPassword'
              ? 'pass --user and --password, set RABBIT_USER / RABBIT_PASSWORD (environment or .env), or start the testbed (make cluster): its cluster file has them'
              : /EncryptionKey$/.test(err.option ?? '')
                ? 'the snoop keys must be the ones the charts use (a new one: mirosnet keygen)'
                : undefined;
          // a malformed key is a bad value (exit 2); a missing user or password a failure to find them (exit 1)
          if (/EncryptionKey$/.test(err.option ?? '')) throw new BadValueError(`snoop: ${snoopConfigMessage(err)}`, hint);
          throw new ClusterError(`snoop: ${snoopConfigMessage(err)}`, hint);
        }
        if (err instanceof BrokerUnreachableError) {
          throw new ClusterError(`snoop: ${err.message}`, 'start the testbed (make cluster), or name a running broker with --host ADDRESS');
        }
        if (err instanceof MirosNetError) throw new ClusterError(`snoop: ${err.message}`);
        throw err;
      });
      console.error(`snoop: listening on ${listener.host} as ${listener.name}${o.out ? `, writing ${o.out} and ${listener.jsonl}` : ''} (Ctrl-C to stop)`);
      await new Promise<void>((done) => {
        const finish = () => {
          process.off('SIGINT', finish);
          process.off('SIGTERM', finish);
          void listener.stop().then(() => {
            console.error(`snoop: stopped after ${listener.lines} lines`);
            done();
          });
        };
        process.on('SIGINT', finish);
        process.on('SIGTERM', finish);
      });
    }),
  );

program
  .command('sim')
  .description('run a program in the deterministic simulation under seeded faults: many seeds (--seeds A..B, in worker threads), or one replayed with its evidence (--seed N --out DIR); docs/simulation.md')
  .option('--program <module>', 'the program module (exports `program` or a default; default: the bundled relay, examples/relay)')
  .option('--seeds <A..B>', 'run seeds A to B (inclusive) and check each')
  .option('--seed <n>', 'replay one seed', int)
  .option('--out <dir>', 'with --seed: write its evidence there (distributed.log, distributed.jsonl, run.html, summary.json)')
  .option('--faults <kinds>', 'all, none, or a comma-separated list of fault kinds (each seed turns some of them on)', 'all')
  .option('--faults-per-run <n>', 'faults in each run', int, 20)
  .option('--span-ms <ms>', 'virtual ms within which a run\'s faults start and heal', int, 20_000)
  .option('--workers <k>', 'worker threads (default: the cores)', int)
  .option('--json', 'print { runs, failed, runsPerMinute, virtualToRealRatio, failures: [{ seed, replay }] } on stdout')
  .option('--regress <names>', 'test only: switch old behaviours of the runtime back (comma-separated: stop-deletes-queues, ack-redelivered-copies, no-incarnations, ignore-consumer-cancel, resend-whole-window, ignore-blocked)')
  .option('--shrink', 'with --seed: reduce the failing seed\'s faults to a minimal list that still fails; print it and the command that replays it')
  .option('--schedule <json>', 'with --seed: replay exactly these faults (a JSON list, as --shrink prints) instead of the seed\'s')
  .action(
    action(async (o: { program?: string; seeds?: string; seed?: number; out?: string; faults: string; faultsPerRun: number; spanMs: number; workers?: number; json?: boolean; regress?: string; shrink?: boolean; schedule?: string }) => {
      const { parseFaultKinds } = await import('../runtime/sim/faults.ts');
      const faults = parseFaultKinds(o.faults);
      const regressions = o.regress ? (await import('../runtime/net/regressions.ts')).parseRegressions(o.regress) : [];
      const schedule = o.schedule !== undefined ? (await import('./sim/shrink.ts')).parseSchedule(o.schedule) : undefined;
      if ((o.shrink || schedule) && o.seed === undefined) throw new InvalidArgumentError('--shrink and --schedule go with --seed N');
      if ((o.seeds === undefined) === (o.seed === undefined)) throw new InvalidArgumentError('give --seeds A..B (a search) or --seed N (a replay), not both');
      if (o.seed !== undefined) {
        const [{ simulate }, { checkSimRun }, { loadProgram }] = await Promise.all([import('./sim/simulate.ts'), import('./sim/check.ts'), import('./sim/load-program.ts')]);
        if (o.shrink) {
          const { shrinkSeed, formatShrink } = await import('./sim/shrink.ts');
          const shrunk = await shrinkSeed(await loadProgram(o.program), { seed: o.seed, faults, faultsPerRun: o.faultsPerRun, spanMs: o.spanMs, regressions, ...(schedule ? { schedule } : {}), ...(o.program ? { programPath: o.program } : {}) });
          if (o.json) console.log(JSON.stringify(shrunk));
          else console.log(formatShrink(shrunk));
          if (!shrunk.failing) process.exitCode = EXIT.failure;
          return;
        }
        const result = await simulate(await loadProgram(o.program), { seed: o.seed, ...(o.out ? { out: resolve(o.out) } : {}), faults: { kinds: faults, count: o.faultsPerRun, spanMs: o.spanMs, ...(schedule ? { schedule } : {}) }, regressions });
        const check = checkSimRun(result);
        const summary = { seed: o.seed, ok: check.ok, hash: result.hash, virtualMs: result.virtualMs, kinds: result.faults?.plan.kinds ?? [], faults: result.faults?.records.length ?? 0, problems: check.problems, ...(o.out ? { out: resolve(o.out) } : {}) };
        if (o.json) console.log(JSON.stringify(summary));
        else {
          console.log(`seed ${o.seed}: ${check.ok ? 'ok' : 'FAILED'}  hash ${result.hash}  ${result.virtualMs} virtual ms  faults on: ${summary.kinds.join(', ') || 'none'}`);
          for (const p of check.problems) console.log(`  ${p}`);
          if (o.out) console.log(`evidence: ${resolve(o.out)} (mirosnet log check ${o.out})`);
        }
        if (!check.ok) process.exitCode = EXIT.failure;
        return;
      }
      const { parseSeedRange, searchSeeds } = await import('./sim/search.ts');
      const { from, to } = parseSeedRange(o.seeds!);
      const tty = process.stderr.isTTY;
      let lastShown = 0;
      const r = await searchSeeds({
        ...(o.program ? { program: o.program } : {}),
        from,
        to,
        faults,
        faultsPerRun: o.faultsPerRun,
        spanMs: o.spanMs,
        ...(regressions.length > 0 ? { regressions } : {}),
        ...(o.workers !== undefined ? { workers: o.workers } : {}),
        onProgress: (done, total, failed) => {
          const now = Date.now();
          if (done < total && now - lastShown < 1000) return;
          lastShown = now;
          process.stderr.write(`${tty ? '\r' : ''}sim: ${done}/${total} runs, ${failed} failed${tty && done < total ? '' : '\n'}`);
        },
      });
      if (o.json) console.log(JSON.stringify({ runs: r.runs, failed: r.failed, runsPerMinute: r.runsPerMinute, virtualToRealRatio: r.virtualToRealRatio, failures: r.failures.map(({ seed, replay }) => ({ seed, replay })) }));
      else {
        console.log(`${r.runs} runs, ${r.failed} failed, ${r.runsPerMinute} runs/minute on ${r.workers} workers, virtual/real ${r.virtualToRealRatio} (per run ${r.perRunVirtualToReal})`);
        for (const f of r.failures) console.log(`seed ${f.seed}: ${f.problems[0] ?? ''}\n  replay: ${f.replay}`);
      }
      if (r.failed > 0) process.exitCode = EXIT.failure;
    }),
  );

registerLogCommands(program); // log merge|check|diagram, watch

/** After a usage error, point at the help of the command that was mistyped. */
function helpHints(cmd: Command, path: string): void {
  cmd.showHelpAfterError(`(see: ${path} --help)`);
  for (const sub of cmd.commands) helpHints(sub, `${path} ${sub.name()}`);
}
helpHints(program, 'mirosnet');

/** `mirosnet help NAME` for a NAME that is no command: a usage error, not the full help. */
function unknownHelpTopic(argv: string[]): string | undefined {
  const [first, topic] = argv.slice(2);
  if (first !== 'help' || topic === undefined || topic.startsWith('-')) return undefined;
  return program.commands.some((c) => c.name() === topic || c.aliases().includes(topic)) ? undefined : topic;
}

const unknownTopic = unknownHelpTopic(process.argv);
if (unknownTopic !== undefined) {
  const names = program.commands.map((c) => c.name()).filter((n) => n !== 'help');
  process.stderr.write(`mirosnet: unknown command '${unknownTopic}'; the commands are: ${names.join(', ')} (see: mirosnet --help)\n`);
  process.exitCode = EXIT.usage;
} else try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (!(err instanceof CommanderError)) throw err;
  // --help and --version end here with 0; every other CommanderError is a usage error
  // (unknown command or option, bad or missing value, no command given)
  process.exitCode = err.exitCode === 0 ? EXIT.ok : EXIT.usage;
}
