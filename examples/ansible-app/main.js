// A user's own chart program, deployed by the ansible instance role (instance_app):
// two networked charts in one process.
//   - <name>: a ticker, idle <-> busy every TICK_MS, transmitting TICK {from} on the mesh;
//   - <name>-listener: prints "GOT TICK from X" for every other host's TICK (the beacons'
//     too) and writes the snoop trace of the network to distributed.log.
// The role gives it MIROS_INSTANCE_NAME and MIROS_THIS_ADDRESS; credentials and Fernet keys
// come from the .env and the brokers from .miros_rabbitmq_hosts.json in its working
// directory, both written by the role. With MIROS_METRICS_PORT (the role sets it and installs
// prom-client, unless instance_metrics is false) the listener, which receives every TICK,
// serves its Prometheus metrics on MIROS_METRICS_ADDRESS:MIROS_METRICS_PORT.
import { appendFileSync } from 'node:fs';
import { Event, NetworkedActiveObject, ReturnStatus, signals } from 'miros-rabbitmq';

const name = process.env.MIROS_INSTANCE_NAME ?? 'app';
const thisAddress = process.env.MIROS_THIS_ADDRESS || undefined;
const period = Number(process.env.TICK_MS ?? 1000);
const log = (line) => process.stdout.write(`${line}\n`);
const common = { thisAddress, startTimeoutMs: 60_000, onWarning: (m) => log(`warning: ${m}`) };
const metricsPort = process.env.MIROS_METRICS_PORT;
const metrics = metricsPort ? { metrics: { port: Number(metricsPort), host: process.env.MIROS_METRICS_ADDRESS || '127.0.0.1' } } : {};

function idle(chart, e) {
  if (e.signalName === 'TOGGLE') return chart.trans(busy);
  return chart.super(chart.top);
}
function busy(chart, e) {
  if (e.signalName === 'TOGGLE') return chart.trans(idle);
  return chart.super(chart.top);
}
function listening(chart, e) {
  if (!signals.isInner(e.signal) && e.signalName === 'TICK') {
    if (e.payload?.from !== name) log(`GOT TICK from ${e.payload?.from}`);
    return ReturnStatus.HANDLED;
  }
  return chart.super(chart.top);
}

// the listener prints the network's trace; the ticker only sends its own
const ticker = new NetworkedActiveObject(name, { ...common, txRoutingKey: 'beacon.man', rxRoutingKey: `${name}.none`, output: () => undefined });
const listener = new NetworkedActiveObject(`${name}-listener`, {
  ...common,
  ...metrics,
  txRoutingKey: `${name}.listener`,
  rxRoutingKey: '#.man',
  output: (line) => appendFileSync('distributed.log', `${line}\n`),
});
ticker.enableSnoopTraceNoColor();
listener.enableSnoopTraceNoColor();
await listener.startAt(listening);
await ticker.startAt(idle);
log(`READY ${name}: ticker and listener, brokers ${JSON.stringify(ticker.lan.addresses)}`);

const timer = setInterval(() => {
  ticker.postFifo(new Event('TOGGLE'));
  ticker.transmit(new Event('TICK', { from: name }));
}, period);

const stop = async () => {
  clearInterval(timer);
  await ticker.stop();
  await listener.stop();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
