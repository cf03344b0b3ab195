// A ring member: txRoutingKey names the next member, rxRoutingKey this one, so a
// transmitted TOKEN reaches only the successor. params: { first, hops, delayMs }.
// The first member starts the token on {"cmd":"go"}; every member reports each
// arrival as "@@HOP {hop, at, from}" and passes hop+1 on until `hops` is reached.
import { Event, type NetworkedActiveObject, ReturnStatus, signals } from '../../runtime/index.ts';
import { control, param, readConfig, runInstance, type Chart } from './common.ts';

const cfg = readConfig();
const first = param(cfg, 'first', false);
const hops = param(cfg, 'hops', 1);
const delayMs = param(cfg, 'delayMs', 0);

function pass(chart: Chart, hop: number): void {
  const send = () => chart.transmit(new Event('TOKEN', { hop, from: cfg.name }));
  if (delayMs > 0) setTimeout(send, delayMs);
  else send();
}

function ring(chart: NetworkedActiveObject, e: Event): ReturnStatus {
  if (e.signalName === 'TOKEN') {
    const { hop, from } = e.payload as { hop: number; from: string };
    control('HOP', { hop, from, at: Date.now() });
    if (cfg.trace || cfg.spy) chart.snoopScribble(`token hop ${hop} from ${from}`);
    if (hop < hops) pass(chart, hop + 1);
    return ReturnStatus.HANDLED;
  }
  if (e.signalName === 'GO') {
    if (first) pass(chart, 1);
    return ReturnStatus.HANDLED;
  }
  if (!signals.isInner(e.signal)) return ReturnStatus.HANDLED;
  return chart.super(chart.top);
}

await runInstance(cfg, ring, { onCommand: (chart, c) => c.cmd === 'go' && chart.postFifo(new Event('GO')) });
