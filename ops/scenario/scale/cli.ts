// The scale scenario's command line (scenarios/scale.mjs, make scenario S=scale INSTANCES=M).
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { exitQuietlyWhenTheReaderLeaves } from '../../cli-output.ts';
import { runScale, type Topology } from './scale.ts';

function whole(min: number) {
  return (v: string) => {
    const n = Number(v);
    if (!/^\s*\d+\s*$/.test(v) || n < min) throw new InvalidArgumentError(`expected a whole number >= ${min}`);
    return n;
  };
}

function positive(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a number > 0');
  return n;
}

function topologies(v: string): Topology[] {
  const list = v.split(',').map((x) => x.trim());
  if (!list.length || list.some((x) => x !== 'mesh' && x !== 'clustered')) throw new InvalidArgumentError('expected mesh, clustered or both: clustered,mesh');
  return list as Topology[];
}

export const SCALE_DESCRIPTION =
  'M instances over an N-node cluster exchange a token ring and all-to-all bursts for --duration s, once clustered (a member SIGKILLed mid-run) and once as today\'s mesh on the same brokers; connections from /api/connections.';

export async function scaleMain(argv: string[]): Promise<number> {
  exitQuietlyWhenTheReaderLeaves(); // a child of `mirosnet scenario scale`: `--help | head -1` ends quietly
  const cmd = new Command('scale')
    .usage('[options]')
    .description(SCALE_DESCRIPTION)
    .exitOverride()
    .configureOutput({ outputError: (str, write) => write(`scenario scale: ${str.replace(/^error: /, '').trim().replace(/\s*\n\s*/g, ' ')} (--help for the options)\n`) })
    .addOption(new Option('--instances <m>', 'instance processes').argParser(whole(2)).default(50))
    .addOption(new Option('--nodes <n>', 'brokers (cluster members)').argParser(whole(1)).default(3))
    .addOption(new Option('--backend <kind>', 'where the brokers run, when the scenario brings them up').choices(['local', 'netns', 'docker']).default('local'))
    .addOption(new Option('--topologies <list>', 'which runs, in order').argParser(topologies).default(['clustered', 'mesh'] as Topology[], 'clustered,mesh'))
    .addOption(new Option('--topology <kind>', 'only this run (make scenario TOPOLOGY=… passes it): --topologies KIND').choices(['clustered', 'mesh']).conflicts('topologies'))
    .addOption(new Option('--duration <seconds>', 'traffic time per topology').argParser(whole(5)).default(20))
    .addOption(new Option('--burst-every <ms>', 'each instance broadcasts a burst this often').argParser(whole(50)).default(undefined, 'max(1000, 100·M): about 10 bursts/s in all, so deliveries grow as M, not M²'))
    .addOption(new Option('--burst-size <k>', 'events per burst').argParser(whole(1)).default(1))
    .option('--no-kill', 'clustered: do not SIGKILL a member mid-run')
    .addOption(new Option('--observe', 'Prometheus scrapes every broker and instance (mirosnet observe, started if needed; it stays up: mirosnet observe --stop)'))
    .addOption(new Option('--logs <dir>', 'where logs/scale-<timestamp>/ goes (default ./logs)'))
    .addOption(new Option('--dir <path>', 'cluster state directory (default: $MIROS_CLUSTER_DIR, else .cluster)'))
    .addOption(new Option('--timeout <seconds>', 'how long to wait for the outcome once the traffic ends (the drain; default 180)').argParser(positive))
    .addOption(
      new Option('--tls [mode]', 'brokers with TLS (brought up so if needed), instances on amqps:// with the cluster CA; only `on`: scale reads the management API over plain HTTP, which --tls only turns off')
        .choices(['on'])
        .preset('on'),
    )
    .addOption(new Option('--json', "print the run's summary (summary.json) on stdout at the end; progress goes to stderr"))
    .addHelpText('after', '\nRun: make cluster TOPOLOGY=clustered N=3 && make scenario S=scale INSTANCES=50\nExit status: 0 pass, 1 fail, 2 usage error.');
  try {
    cmd.parse(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    throw err;
  }
  const o = cmd.opts<{ instances: number; nodes: number; backend: 'local' | 'netns' | 'docker'; topology?: Topology; topologies: Topology[]; duration: number; burstEvery?: number; burstSize: number; kill: boolean; observe?: boolean; logs?: string; dir?: string; timeout?: number; tls?: 'on'; json?: boolean }>();
  const r = await runScale({
    instances: o.instances,
    nodes: o.nodes,
    backend: o.backend,
    topologies: o.topology ? [o.topology] : o.topologies,
    durationS: o.duration,
    kill: o.kill,
    burstEveryMs: o.burstEvery,
    burstSize: o.burstSize,
    logsRoot: o.logs,
    dir: o.dir,
    outcomeTimeoutMs: o.timeout !== undefined ? o.timeout * 1000 : undefined,
    tls: o.tls,
    // --json: stdout carries the summary alone
    ...(o.json ? { log: (l: string) => void process.stderr.write(`[scale] ${l}\n`) } : {}),
    observe: o.observe,
  });
  if (o.json) process.stdout.write(`${JSON.stringify(r.summary, null, 2)}\n`);
  return r.pass ? 0 : 1;
}
