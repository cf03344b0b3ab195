// `mirosnet log merge|check|diagram` and `mirosnet watch`: registered on the main program
// by ops/cli.ts; each action imports what it needs.
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';

/** A failure: one line (and the hint) on stderr; an input that is no run is a bad value (exit 2), anything else exit 1. */
function fail(err: unknown): void {
  const e = err as Error & { hint?: string };
  console.error(`mirosnet log: ${e?.message ?? String(err)}${e?.hint ? `\n→ ${e.hint}` : ''}`);
  process.exitCode = e?.name === 'RunInputError' ? 2 : 1;
}

/** Outputs go into the run dir when the input is one directory, else the current directory. */
function outputDir(inputs: string[]): string {
  return inputs.length === 1 && existsSync(inputs[0]) && statSync(inputs[0]).isDirectory() ? inputs[0] : process.cwd();
}

function port(value: string): number {
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || n > 65535) throw new InvalidArgumentError('expected a port number (0-65535)');
  return n;
}

export function registerLogCommands(program: Command): void {
  program
    .command('watch')
    .description("a live local web page of the mesh: each chart's current state and latest lines (a passive observer of the snoop trace network, updated by server-sent events)")
    .option('--port <port>', 'HTTP port (0: a free one)', port, 8750)
    .option('--bind <address>', 'address to serve on', '127.0.0.1')
    .option('--keys-file <file>', 'snoop keys from a file: TRACE[,SPY] (or $SNOOP_KEYS_FILE; default $SNOOP_TRACE_ENCRYPTION_KEY or .env)')
    .option('--keys <trace[,spy]>', 'snoop keys on the command line (visible in ps: prefer --keys-file)')
    .option('--trace-key <key>', 'snoop trace key (visible in ps: prefer --keys-file)')
    .option('--host <address>', 'broker to consume from (default: node 1 of the cluster file, else this host)')
    .option('--user <name>', 'RabbitMQ user (default $RABBIT_USER, .env, or the cluster file)')
    .option('--password-file <file>', 'RabbitMQ password from a file (or $RABBIT_PASSWORD_FILE; default $RABBIT_PASSWORD, .env, or the cluster file)')
    .option('--password <password>', 'RabbitMQ password on the command line (visible in ps: prefer --password-file)')
    .option('--dir <path>', 'cluster state directory (default: $MIROS_CLUSTER_DIR, else .cluster in the current directory)')
    .action(async (o: { port: number; bind: string; keys?: string; keysFile?: string; traceKey?: string; host?: string; user?: string; password?: string; passwordFile?: string; dir?: string }) => {
      try {
        const [{ startWatch }, { readClusterFile }, { resolveSecrets }] = await Promise.all([import('./watch.ts'), import('../cluster/cluster-file.ts'), import('../secret-args.ts')]);
        const secrets = resolveSecrets(o);
        const file = readClusterFile(o.dir);
        const fromEnv = (name: string) => process.env[name] !== undefined;
        const watch = await startWatch({
          port: o.port,
          bind: o.bind,
          host: o.host ?? file?.nodes[0]?.host,
          rabbitUser: o.user ?? (fromEnv('RABBIT_USER') ? undefined : file?.credentials.user),
          rabbitPassword: secrets.password ?? (fromEnv('RABBIT_PASSWORD') ? undefined : file?.credentials.password),
          traceKey: secrets.traceKey,
          networks: ['trace'],
        });
        console.error(`watch: ${watch.url} (observing the trace network on ${watch.listener.host}; Ctrl-C to stop)`);
        await new Promise<void>((done) => {
          const finish = () => {
            process.off('SIGINT', finish);
            process.off('SIGTERM', finish);
            void watch.stop().then(done);
          };
          process.on('SIGINT', finish);
          process.on('SIGTERM', finish);
        });
      } catch (err) {
        console.error(`mirosnet watch: ${(err as Error)?.message ?? String(err)}`);
        process.exitCode = 1;
      }
    });

  const log = program
    .command('log')
    .description("a run's logs as evidence: merge them causally, check them for gaps, draw them")
    .addHelpText(
      'after',
      '\nA run dir holds distributed.jsonl (the observer\'s records), <instance>.jsonl (each chart\'s own evidence file) and maybe faults.jsonl.\n' +
        'Examples:\n  mirosnet log check logs/mesh-ring-…\n  mirosnet log merge logs/mesh-ring-…\n  mirosnet log diagram logs/mesh-ring-… --out run.html',
    );

  log
    .command('merge')
    .description('merge per-instance and observer logs into one causal order (a receive never before its send; ties by wall time); writes merged.jsonl and merged.log')
    .argument('<inputs...>', 'a run dir, or .jsonl files')
    .option('--out <prefix>', 'write <prefix>.jsonl and <prefix>.log (default: merged in the run dir, else in the current directory)')
    .action(async (inputs: string[], o: { out?: string }) => {
      try {
        const [{ loadRun }, { mergeRecords, toJsonl, toLog }] = await Promise.all([import('./records.ts'), import('./merge.ts')]);
        const records = mergeRecords(loadRun(inputs));
        const prefix = o.out ?? join(outputDir(inputs), 'merged');
        writeFileSync(`${prefix}.jsonl`, toJsonl(records), { mode: 0o600 }); // evidence: payloads in the clear
        writeFileSync(`${prefix}.log`, toLog(records), { mode: 0o600 });
        console.log(`merged ${records.length} records: ${prefix}.jsonl, ${prefix}.log`);
      } catch (err) {
        fail(err);
      }
    });

  log
    .command('check')
    .description('per-sender gaps, duplicates and reordering, mesh events sent but never received or received but never sent; exit 1 with a list when anything is missing')
    .argument('<inputs...>', 'a run dir, or .jsonl files (faults.jsonl: losses during a fault are expected)')
    .option('--json', 'print the result as JSON (also when the check cannot run: {"ok": false, "error": …})')
    .action(async (inputs: string[], o: { json?: boolean }) => {
      try {
        const [{ loadRun }, { checkLogs, formatCheck }] = await Promise.all([import('./records.ts'), import('./check.ts')]);
        const result = checkLogs(loadRun(inputs));
        console.log(o.json ? JSON.stringify(result, null, 2) : formatCheck(result));
        if (!result.ok) process.exitCode = 1;
      } catch (err) {
        if (o.json) console.log(JSON.stringify({ ok: false, error: (err as Error)?.message ?? String(err) }, null, 2));
        fail(err);
      }
    });

  log
    .command('diagram')
    .description('a sequence diagram of the run: one self-contained HTML page (lanes, arrows, states, notes, fault bands, filters, zoom), or Mermaid')
    .argument('<inputs...>', 'a run dir, or .jsonl files')
    .option('--out <file>', 'the HTML file (default: run.html in the run dir, else in the current directory)')
    .option('--mermaid', 'print a Mermaid sequenceDiagram instead')
    .action(async (inputs: string[], o: { out?: string; mermaid?: boolean }) => {
      try {
        const [{ loadRun }, { diagramData, toHtml, toMermaid }] = await Promise.all([import('./records.ts'), import('./diagram.ts')]);
        const data = diagramData(loadRun(inputs), `run ${basename(resolve(inputs[0]))}`);
        if (o.mermaid) {
          process.stdout.write(toMermaid(data));
          return;
        }
        const out = o.out ?? join(outputDir(inputs), 'run.html');
        writeFileSync(out, toHtml(data));
        console.log(`diagram: ${out} (${data.charts.length} charts, ${data.arrows.length} arrows, ${data.rows.length} rows)`);
      } catch (err) {
        fail(err);
      }
    });
}
