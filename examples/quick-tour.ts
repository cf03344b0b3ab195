// A statechart in miros style: states are functions, unhandled signals go to the parent.
import { ActiveObject, Event, ReturnStatus, signals } from '../runtime/index.ts';

function outer(chart: ActiveObject, e: Event): ReturnStatus {
  if (e.signal === signals.ENTRY_SIGNAL) return ReturnStatus.HANDLED;
  if (e.signal === signals.INIT_SIGNAL) return chart.trans(inner);
  if (e.signal === signals.RESET) return chart.trans(outer);
  return chart.super(chart.top);
}

function inner(chart: ActiveObject, e: Event): ReturnStatus {
  if (e.signal === signals.TICK) {
    chart.scribble('tick handled in inner');
    return ReturnStatus.HANDLED;
  }
  return chart.super(outer);
}

const ao = new ActiveObject('tour');
ao.startAt(outer);
ao.postFifo(new Event('TICK'));
ao.postFifo(new Event('RESET'));
await new Promise((r) => setTimeout(r, 50)); // the queue drains on the event loop
console.log(ao.spy()!.join('\n'));
console.log(ao.trace());
await ao.stop();
