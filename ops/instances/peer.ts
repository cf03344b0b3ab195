// A general-purpose peer: idle <-> busy on TOGGLE (a local event, so trace and spy have
// state changes to show), every mesh event reported as "@@GOT {signal, payload}", and
// params.replies = { SIGNAL: 'REPLY' } answering SIGNAL with REPLY {from: me, to: sender}.
// The runner drives it with post / transmit / scribble commands.
import { Event, ReturnStatus } from '../../runtime/index.ts';
import { control, param, readConfig, runInstance } from './common.ts';
import { toggleStates } from './toggle.ts';

const cfg = readConfig();
const replies = param<Record<string, string>>(cfg, 'replies', {});

const { idle } = toggleStates((chart, e) => {
  control('GOT', { signal: e.signalName, payload: e.payload ?? null });
  const reply = replies[e.signalName];
  if (reply) chart.transmit(new Event(reply, { from: cfg.name, to: (e.payload as { from?: unknown } | undefined)?.from }));
  return ReturnStatus.HANDLED;
});

await runInstance(cfg, idle);
