// AckTracker, a pure part: what is acked, when, and never ahead of the handling.
import { describe, expect, it } from 'vitest';
import { AckTracker } from '../../runtime/net/ack-tracker.ts';

const delivery = (tag: number) => ({ fields: { deliveryTag: tag } });

/** A tracker whose deferred flushes run when the test says (one "turn of the event loop"). */
function tracker(batch?: number) {
  const acks: number[] = [];
  const deferred: Array<() => void> = [];
  const t = new AckTracker<ReturnType<typeof delivery>>((last) => acks.push(last.fields.deliveryTag), (fn) => deferred.push(fn), batch);
  const turn = () => deferred.splice(0).forEach((fn) => fn());
  return { t, acks, turn };
}

describe('AckTracker', () => {
  it('acks the longest handled prefix with one ack for its last delivery, on the next turn', () => {
    const { t, acks, turn } = tracker();
    const h = [1, 2, 3, 4].map((tag) => t.add(delivery(tag)));
    h[1](); // 2 handled before 1: nothing may be acked yet
    h[0]();
    h[3]();
    expect(acks).toEqual([]); // not before the turn
    h[2](); // every delivery handled: the flush is due
    turn();
    expect(acks).toEqual([4]);
    expect(t.outstanding).toBe(0);
  });

  it('a chart that has caught up acks at once; one working through a burst acks every `batch` events', () => {
    const { t, acks, turn } = tracker(3);
    const h = Array.from({ length: 8 }, (_, i) => t.add(delivery(i + 1)));
    for (let i = 0; i < 7; i++) {
      h[i](); // one run-to-completion step per turn
      turn();
    }
    expect(acks).toEqual([3, 6]); // after 3 and after 6 more were handled, 8 still waiting
    h[7]();
    turn();
    expect(acks).toEqual([3, 6, 8]); // caught up: all acked
  });

  it("flushIfCaughtUp (the end of a chart's step) acks at once when every delivery is handled, and only then", () => {
    const acks: number[] = [];
    const deferred = new Map<number, () => void>();
    let next = 0;
    const cancelled: number[] = [];
    const t = new AckTracker<ReturnType<typeof delivery>>(
      (last) => acks.push(last.fields.deliveryTag),
      (fn) => (deferred.set(++next, fn), next),
      64,
      (handle) => (cancelled.push(handle as number), deferred.delete(handle as number)),
    );
    const turn = () => [...deferred.values()].splice(0).forEach((fn) => (deferred.clear(), fn()));
    const h = [1, 2, 3].map((tag) => t.add(delivery(tag)));
    h[0]();
    t.flushIfCaughtUp(); // 2 and 3 still wait in the chart: nothing yet, not even 1
    expect(acks).toEqual([]);
    h[1]();
    h[2]();
    t.flushIfCaughtUp();
    expect(acks).toEqual([3]); // at once, without a turn
    expect(cancelled).toEqual([1]); // the turn's flush is not needed any more
    turn();
    expect(acks).toEqual([3]);
    t.flushIfCaughtUp(); // nothing new handled: no second ack
    expect(acks).toEqual([3]);
    const h4 = t.add(delivery(4));
    h4();
    turn(); // a delivery handled outside a step (a duplicate, a drop) still goes on the turn
    expect(acks).toEqual([3, 4]);
  });

  it('a deferred flush that could not be cancelled acks nothing twice', () => {
    const { t, acks, turn } = tracker();
    const h = [1, 2].map((tag) => t.add(delivery(tag)));
    h[0]();
    h[1](); // schedules a flush
    t.flushIfCaughtUp(); // acks now; the test's defer cannot cancel
    turn(); // the stale flush runs: nothing
    expect(acks).toEqual([2]);
    expect(t.outstanding).toBe(0);
  });

  it('handled twice counts once; nothing is acked after discard (the channel is gone)', () => {
    const { t, acks, turn } = tracker(2);
    const h1 = t.add(delivery(1));
    const h2 = t.add(delivery(2));
    h1();
    h1();
    turn();
    expect(acks).toEqual([]); // one of two handled, below the batch
    t.discard();
    h2();
    turn();
    expect(acks).toEqual([]);
    expect(t.outstanding).toBe(0);
  });
});
