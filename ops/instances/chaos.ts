// A chaos member: on {"cmd":"go"} it transmits CHAOS events every params.intervalMs until
// {"cmd":"quiet"}, each with a unique id (its name, its incarnation = the start time of
// this process, a sequence number from 1); every CHAOS event the chart handles is reported.
//   @@SENT {i, s}        sent event s of incarnation i
//   @@CONF {i, s, n}     every broker it went to (n of them) confirmed it (transmit()'s
//                        Transmission settled with nothing unconfirmed)
//   @@NCONF {i, s, n, u} settled with u of its n brokers unconfirmed (outbox full, link closed)
//   @@RCV {f, i, s}      handled event s of sender f, incarnation i
// The lines are short on purpose: a chaos run writes hundreds of thousands.
import { Event, type NetworkedActiveObject, ReturnStatus, signals, type Transmission } from '../../runtime/index.ts';
import { control, param, readConfig, runInstance, type Chart } from './common.ts';

const cfg = readConfig();
const intervalMs = param(cfg, 'intervalMs', 50);
const incarnation = Date.now();
let seq = 0;
let timer: NodeJS.Timeout | undefined;

function sendOne(chart: Chart): void {
  const s = seq + 1;
  let sent: Transmission;
  try {
    sent = chart.transmit(new Event('CHAOS', { f: cfg.name, i: incarnation, s }));
  } catch (err) {
    // the chart is stopping (stop or end of stdin before quiet): nothing more to send
    clearInterval(timer);
    timer = undefined;
    process.stderr.write(`chaos: transmit #${s} refused, sending stopped: ${(err as Error).message}\n`);
    return;
  }
  seq = s;
  control('SENT', { i: incarnation, s });
  // settled never rejects: every broker confirmed it, or some gave up on it
  void sent.settled.then((r) => {
    if (r.unconfirmed.length === 0) control('CONF', { i: incarnation, s, n: r.confirmed.length });
    else control('NCONF', { i: incarnation, s, n: r.confirmed.length + r.unconfirmed.length, u: r.unconfirmed.length });
  });
}

function chaos(chart: NetworkedActiveObject, e: Event): ReturnStatus {
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
