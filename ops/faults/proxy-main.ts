// The toxic proxy as a process of its own (toxics.ts starts one inside a host's namespace):
// it must outlive the CLI call that injected the toxic, until `mirosnet fault heal` stops it
// by its PID. Run compiled: node dist/ops/faults/proxy-main.js --listen 0.0.0.0:56720
//   --upstream 10.77.0.12:5672 --toxic '{"kind":"latency","ms":200}' [--tag <cluster dir>]
// Prints one line "ready <port>" on stdout once it listens (the starter waits for it), then
// writes only to stderr. SIGTERM (or SIGINT) closes every relayed connection and exits 0.
import { parseArgs } from 'node:util';
import { type Toxic, ToxicProxy } from './proxy.ts';

function hostPort(what: string, v: string | undefined): { host: string; port: number } {
  const m = v ? /^(.+):(\d+)$/.exec(v) : null;
  if (!m) throw new Error(`proxy: --${what} needs host:port, got ${v ?? 'nothing'}`);
  return { host: m[1], port: Number(m[2]) };
}

const { values } = parseArgs({ options: { listen: { type: 'string' }, upstream: { type: 'string' }, toxic: { type: 'string' }, tag: { type: 'string' } } });
const proxy = new ToxicProxy({ listen: hostPort('listen', values.listen), upstream: hostPort('upstream', values.upstream) });
const toxic = JSON.parse(values.toxic ?? 'null') as Toxic | null;
if (toxic) proxy.set(toxic);
await proxy.start();
process.stdout.write(`ready ${proxy.address.port}\n`);

const stop = () => {
  void proxy.stop().then(() => {
    process.stderr.write(`proxy: stopped after ${proxy.counters.connections} connection(s), ${proxy.counters.resets} reset\n`);
    process.exit(0);
  });
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// the starter closes its end of stdout once it has read "ready": never write there again
process.stdout.on('error', () => undefined);
