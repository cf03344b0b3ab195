// The two-state chart the beacon and the peer share: idle <-> busy on TOGGLE (a local
// event, so trace and spy have state changes to show); every other outer signal is
// offered to `other` first. The functions are named idle and busy: trace lines show them.
import { ReturnStatus, signals, type Event, type NetworkedActiveObject } from '../../runtime/index.ts';

/** Handles a non-TOGGLE event, or returns undefined to let the state pass it up. */
export type OtherHandler = (chart: NetworkedActiveObject, e: Event) => ReturnStatus | undefined;

export function toggleStates(other: OtherHandler): { idle: (chart: NetworkedActiveObject, e: Event) => ReturnStatus; busy: (chart: NetworkedActiveObject, e: Event) => ReturnStatus } {
  const pass = (chart: NetworkedActiveObject, e: Event): ReturnStatus | undefined => (signals.isInner(e.signal) ? undefined : other(chart, e));
  function idle(chart: NetworkedActiveObject, e: Event): ReturnStatus {
    if (e.signalName === 'TOGGLE') return chart.trans(busy);
    return pass(chart, e) ?? chart.super(chart.top);
  }
  function busy(chart: NetworkedActiveObject, e: Event): ReturnStatus {
    if (e.signalName === 'TOGGLE') return chart.trans(idle);
    return pass(chart, e) ?? chart.super(chart.top);
  }
  return { idle, busy };
}
