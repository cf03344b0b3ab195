// `mirosnet`: the testbed's command line. Each command parses its arguments
// and calls one ops function (ops/cluster/index.ts); errors become one clear
// message on stderr and exit status 1.
import { spawn } from 'node:child_process';
import { Command, InvalidArgumentError, Option } from 'commander';
import {
  ClusterError,
  type ClusterOptions,
  down,
  ensureRabbitmq,
  formatTable,
  heal,
  logs,
  partition,
  readClusterFile,
  status,
  up,
} from './cluster/index.ts';

function int(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number');
  return n;
}

const backendOption = () => new Option('--backend <kind>', 'local | netns | docker').choices(['local', 'netns', 'docker']);
const dirOption = () => new Option('--dir <path>', 'state directory (default <repo>/.cluster or $MIROS_CLUSTER_DIR)');

/** Runs an action; a failure prints what failed and what to do, then exits 1. */
function action<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      if (err instanceof ClusterError) {
        console.error(`mirosnet: ${err.format()}`);
      } else {
        console.error(`mirosnet: unexpected error: ${(err as Error)?.stack ?? String(err)}`);
      }
      process.exitCode = 1;
    }
  };
}

const program = new Command('mirosnet')
  .description('miros-rabbitmq testbed: RabbitMQ clusters, faults, keys')
  .showHelpAfterError('(mirosnet --help for usage)')
  .configureOutput({ outputError: (str, write) => write(`mirosnet: ${str}`) });

const cluster = program.command('cluster').description('N RabbitMQ nodes on this machine (see .cluster/cluster.json)');

cluster
  .command('up')
  .description('start N nodes (idempotent: keeps healthy ones, restarts dead ones, adds or removes nodes)')
  .option('-n, --nodes <n>', 'number of nodes', int, 3)
  .addOption(backendOption().default('local'))
  .addOption(dirOption())
  .option('--address-base <ip>', 'address of node 1 (default 127.0.0.11, netns 10.77.0.11)')
  .option('--name-prefix <p>', 'node names <p>1, <p>2, … (default n)')
  .option('--dist-port-base <port>', 'Erlang distribution port of node i = base + i', int)
  .option('--epmd-port <port>', 'epmd port of the local backend', int)
  .option('--ns-prefix <p>', 'netns backend: namespaces <p>-1, <p>-2, …')
  .option('--erl-args <flags>', 'extra emulator flags for every node (default +stbt u)')
  .option('--timeout <seconds>', 'per node start timeout', int, 180)
  .action(
    action(async (o: { nodes: number; backend: ClusterOptions['backend']; dir?: string; addressBase?: string; namePrefix?: string; distPortBase?: number; epmdPort?: number; nsPrefix?: string; erlArgs?: string; timeout: number }) => {
      const started = await up({
        nodes: o.nodes,
        backend: o.backend,
        dir: o.dir,
        addressBase: o.addressBase,
        namePrefix: o.namePrefix,
        distPortBase: o.distPortBase,
        epmdPort: o.epmdPort,
        nsPrefix: o.nsPrefix,
        erlArgs: o.erlArgs,
        startTimeoutMs: o.timeout * 1000,
      });
      console.log(formatTable(await status({ dir: started.dir })));
    }),
  );

cluster
  .command('down')
  .description('stop every node and remove what the backend made (processes, namespaces, bridge)')
  .addOption(backendOption())
  .addOption(dirOption())
  .option('--purge', 'also delete the nodes’ data and logs')
  .action(
    action(async (o: { backend?: ClusterOptions['backend']; dir?: string; purge?: boolean }) => {
      const stopped = await down(o);
      console.log(stopped.nodes.length ? `down: ${stopped.nodes.join(', ')} stopped (${stopped.dir})` : `down: nothing was running in ${stopped.dir}`);
    }),
  );

cluster
  .command('status')
  .description('table of nodes with live health from the management API; exit 1 if a node is not healthy')
  .addOption(backendOption().hideHelp()) // accepted for the Makefile; the recorded backend is used
  .addOption(dirOption())
  .option('--json', 'print the status as JSON')
  .action(
    action(async (o: { dir?: string; json?: boolean }) => {
      const s = await status({ dir: o.dir });
      console.log(o.json ? JSON.stringify(s, null, 2) : formatTable(s));
      if (s.up && s.nodes.some((n) => !n.healthy)) process.exitCode = 1;
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
      if (node === undefined) {
        const file = readClusterFile(o.dir);
        if (!file) throw new ClusterError('no cluster is up', 'start one: mirosnet cluster up');
        for (const n of file.nodes) console.log(`==> ${n.name} (${n.logFile})\n${logs(n.name, { dir: o.dir, lines: Math.min(o.lines || 20, 20) }).text}\n`);
        return;
      }
      const { file, text } = logs(node, { dir: o.dir, lines: o.lines });
      if (!o.follow) {
        console.log(text);
        return;
      }
      await new Promise<void>((resolve) => spawn('tail', ['-n', String(o.lines), '-F', file], { stdio: 'inherit' }).on('exit', () => resolve()));
    }),
  );

cluster
  .command('partition')
  .description('netns: cut a host off (its link goes down)')
  .argument('<node>', 'n2, 2, rabbit@10.77.0.12 or 10.77.0.12')
  .addOption(dirOption())
  .action(action(async (node: string, o: { dir?: string }) => partition(node, o)));

cluster
  .command('heal')
  .description('netns: bring a partitioned host back (link up)')
  .argument('<node>', 'n2, 2, rabbit@10.77.0.12 or 10.77.0.12')
  .addOption(dirOption())
  .action(action(async (node: string, o: { dir?: string }) => heal(node, o)));

program
  .command('install-deps')
  .description('install rabbitmq-server (and iproute2 with --netns) from the distribution if missing (root, Debian/Ubuntu)')
  .option('--netns', 'also require iproute2 for the netns backend')
  .action(
    action(async (o: { netns?: boolean }) => {
      await ensureRabbitmq({ netns: o.netns });
      console.log('install-deps: rabbitmq-server is installed');
    }),
  );

program
  .command('keygen')
  .description('print a new Fernet key (for a network’s encryption)')
  .action(
    action(async () => {
      // loaded here, so cluster commands never depend on the runtime's state
      const { generateKey } = await import('../runtime/net/fernet.ts');
      console.log(generateKey());
    }),
  );

program
  .command('snoop')
  .description('join the snoop trace and spy networks as a passive observer (no chart) and write their lines')
  .option('--keys <trace[,spy]>', 'snoop keys (default $SNOOP_TRACE_ENCRYPTION_KEY, $SNOOP_SPY_ENCRYPTION_KEY or .env)')
  .option('--trace-key <key>', 'snoop trace key')
  .option('--spy-key <key>', 'snoop spy key')
  .option('--host <address>', 'broker to consume from (default: node 1 of the cluster file, else this host)')
  .option('--user <name>', 'RabbitMQ user (default $RABBIT_USER, .env, or the cluster file)')
  .option('--password <password>', 'RabbitMQ password (default $RABBIT_PASSWORD, .env, or the cluster file)')
  .option('--only <network>', 'trace | spy (default both)')
  .option('--color', 'colour sender names and scribbles as the library does')
  .option('--out <file>', 'append the lines to this file instead of printing them')
  .addOption(dirOption())
  .action(
    action(async (o: { keys?: string; traceKey?: string; spyKey?: string; host?: string; user?: string; password?: string; only?: string; color?: boolean; out?: string; dir?: string }) => {
      const { startSnoopListener } = await import('./logs/snoop-listener.ts');
      const [k1, k2] = (o.keys ?? '').split(',').map((k) => k.trim() || undefined);
      const file = readClusterFile(o.dir);
      const fromEnv = (name: string) => process.env[name] !== undefined;
      const { MirosNetError } = await import('../runtime/index.ts');
      const listener = await startSnoopListener({
        host: o.host ?? file?.nodes[0]?.host,
        rabbitUser: o.user ?? (fromEnv('RABBIT_USER') ? undefined : file?.credentials.user),
        rabbitPassword: o.password ?? (fromEnv('RABBIT_PASSWORD') ? undefined : file?.credentials.password),
        traceKey: o.traceKey ?? k1,
        spyKey: o.spyKey ?? k2,
        networks: o.only ? [o.only as 'trace' | 'spy'] : undefined,
        color: o.color,
        out: o.out,
      }).catch((err) => {
        if (err instanceof MirosNetError) throw new ClusterError(`snoop: ${err.message}`, 'give the keys with --keys TRACE,SPY or set SNOOP_TRACE_ENCRYPTION_KEY / SNOOP_SPY_ENCRYPTION_KEY (or MESH_ENCRYPTION_KEY) in the environment or .env');
        throw err;
      });
      console.error(`snoop: listening on ${listener.host} as ${listener.name}${o.out ? `, writing ${o.out}` : ''} (Ctrl-C to stop)`);
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

await program.parseAsync(process.argv);
