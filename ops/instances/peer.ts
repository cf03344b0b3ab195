// A general-purpose peer: idle <-> busy on TOGGLE (a local event, so trace and spy have
// state changes to show), every mesh event reported as "@@GOT {signal, payload}", and
// params.replies = { SIGNAL: 'REPLY' } answering SIGNAL with REPLY {from: me, to: sender}.
// The runner drives it with post / transmit / scribble commands.
import { Event, ReturnStatus, signals } from '../../runtime/index.ts';
import { control, readConfig, runInstance } from './common.ts';

const cfg = readConfig();
const replies: Record<string, string> = cfg.params?.replies ?? {};

function idle(chart: any, e: any): ReturnStatus {
  if (e.signalName === 'TOGGLE') return chart.trans(busy);
  return other(chart, e) ?? chart.super(chart.top);
}

function busy(chart: any, e: any): ReturnStatus {
  if (e.signalName === 'TOGGLE') return chart.trans(idle);
  return other(chart, e) ?? chart.super(chart.top);
}

function other(chart: any, e: any): ReturnStatus | undefined {
  if (signals.isInner(e.signal)) return undefined;
  control('GOT', { signal: e.signalName, payload: e.payload ?? null });
  const reply = replies[e.signalName];
  if (reply) chart.transmit(new Event(reply, { from: cfg.name, to: (e.payload as any)?.from }));
  return ReturnStatus.HANDLED;
}

await runInstance(cfg, idle);
