// The chart the ansible instance role runs as a service (ansible/roles/instance): a
// networked active object that toggles idle <-> busy every BEACON_PERIOD_MS and transmits
// TICK {from} on the mesh; a TICK from another host is printed as "GOT TICK from <name>".
// A second, never-driven chart (the monitor, as in the scenario runner) prints the trace
// network to distributed.log. Configuration: the .env in the working directory
// (credentials, Fernet keys), the hosts file .miros_rabbitmq_hosts.json, and BEACON_NAME /
// BEACON_THIS_ADDRESS / BEACON_PERIOD_MS from the service; with MIROS_METRICS_PORT (and
// MIROS_METRICS_ADDRESS, default 127.0.0.1) the chart serves its Prometheus metrics there (the
// role sets both unless instance_metrics is false). Shipped compiled in the package:
//   node --enable-source-maps node_modules/miros-rabbitmq/dist/ops/instances/beacon.js
import { appendFileSync } from 'node:fs';
import { Event, NetworkedActiveObject, ReturnStatus, type MetricsOptions } from '../../runtime/index.ts';
import { toggleStates } from './toggle.ts';

const name = process.env.BEACON_NAME ?? 'beacon';
const thisAddress = process.env.BEACON_THIS_ADDRESS || undefined;
const period = Number(process.env.BEACON_PERIOD_MS ?? 2000);
const common = { txRoutingKey: 'beacon.man', rxRoutingKey: '#.man', thisAddress, startTimeoutMs: 60_000 };
const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);

/** GET /metrics on MIROS_METRICS_ADDRESS:MIROS_METRICS_PORT, when the port is set (the ansible role sets it). */
function metricsFromEnv(env: NodeJS.ProcessEnv): MetricsOptions | undefined {
  const raw = env.MIROS_METRICS_PORT;
  if (raw === undefined || raw === '') return undefined;
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port > 65535) throw new Error(`MIROS_METRICS_PORT must be a port number (0-65535), got ${JSON.stringify(raw)}`);
  return { port, host: env.MIROS_METRICS_ADDRESS || '127.0.0.1' };
}
const metrics = metricsFromEnv(process.env);

const { idle } = toggleStates((_chart, e) => {
  if (e.signalName !== 'TICK') return undefined;
  const from = (e.payload as { from?: unknown } | undefined)?.from;
  if (from !== name) log(`GOT TICK from ${String(from)}`);
  return ReturnStatus.HANDLED;
});
function quiet(chart: NetworkedActiveObject): ReturnStatus {
  return chart.super(chart.top);
}

const monitor = new NetworkedActiveObject(`${name}-monitor`, {
  ...common,
  txRoutingKey: `${name}.monitor`,
  rxRoutingKey: `${name}.monitor`,
  output: (line) => appendFileSync('distributed.log', `${line}\n`),
  onWarning: (m) => log(`monitor warning: ${m}`),
});
monitor.enableSnoopTraceNoColor();
await monitor.startAt(quiet);

const chart = new NetworkedActiveObject(name, { ...common, ...(metrics ? { metrics } : {}), output: (line) => log(line), onWarning: (m) => log(`warning: ${m}`) });
chart.enableSnoopTraceNoColor();
await chart.startAt(idle);
log(`READY ${name} hosts ${JSON.stringify(chart.lan.addresses)}`);
if (metrics) log(`METRICS http://${metrics.host}:${chart.metricsPort()}/metrics`);
chart.snoopScribble(`${name} is up`);
const timer = setInterval(() => {
  chart.postFifo(new Event('TOGGLE'));
  chart.transmit(new Event('TICK', { from: name }));
}, period);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  clearInterval(timer);
  log(`STOP ${name}`);
  await chart.stop();
  await monitor.stop();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
