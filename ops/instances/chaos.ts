// A chaos member: on {"cmd":"go"} it transmits CHAOS events every params.intervalMs until
// {"cmd":"quiet"}, each with a unique id (its name, its incarnation = the start time of
// this process, a sequence number from 1); every CHAOS event the chart handles is reported.
//   @@SENT {i, s}        sent event s of incarnation i
//   @@CONF {i, s, n}     every broker confirmed it (only when transmit() returns something to
//                        await: today's runtime returns nothing, so no CONF lines)
//   @@RCV {f, i, s}      handled event s of sender f, incarnation i
// The lines are short on purpose: a chaos run writes hundreds of thousands.
import { Event, ReturnStatus, signals } from '../../runtime/index.ts';
import { control, readConfig, runInstance, type Chart } from './common.ts';

const cfg = readConfig();
const intervalMs: number = cfg.params?.intervalMs ?? 50;
const incarnation = Date.now();
let seq = 0;
let timer: NodeJS.Timeout | undefined;

/** What a future transmit() may return: something that settles when every broker confirmed. */
function confirmation(handle: unknown): Promise<unknown> | undefined {
  if (!handle || typeof handle !== 'object') return undefined;
  const h = handle as { then?: unknown; confirmed?: unknown };
  if (typeof h.then === 'function') return handle as Promise<unknown>;
  if (h.confirmed && typeof (h.confirmed as { then?: unknown }).then === 'function') return h.confirmed as Promise<unknown>;
  return undefined;
}

function sendOne(chart: Chart): void {
  const s = ++seq;
  const handle: unknown = chart.transmit(new Event('CHAOS', { f: cfg.name, i: incarnation, s }));
  control('SENT', { i: incarnation, s });
  confirmation(handle)?.then(
    (r) => control('CONF', { i: incarnation, s, n: Array.isArray(r) ? r.length : 1 }),
    () => control('NCONF', { i: incarnation, s }),
  );
}

function chaos(chart: any, e: any): ReturnStatus {
  if (e.signalName === 'CHAOS') {
    const p = e.payload as { f: string; i: number; s: number };
    control('RCV', { f: p.f, i: p.i, s: p.s });
    return ReturnStatus.HANDLED;
  }
  if (!signals.isInner(e.signal)) return ReturnStatus.HANDLED;
  return chart.super(chart.top);
}

await runInstance(cfg, chaos, {
  onCommand: (chart, c) => {
    if (c.cmd === 'go' && !timer) timer = setInterval(() => sendOne(chart), intervalMs);
    if (c.cmd === 'quiet' && timer) {
      clearInterval(timer);
      timer = undefined;
      control('QUIET', { i: incarnation, s: seq });
    }
  },
});
