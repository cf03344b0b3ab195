// ActiveObject.drained(): an awaitable idle (queue empty, no run-to-completion step running),
// and the chart's environment: its drain steps, periodic posts, timer ids and trace times come
// from the environment it was given.
import { afterEach, describe, expect, it } from 'vitest';
import { ActiveObject, Event, ReturnStatus, type State } from '../../runtime/hsm/index.ts';
import { STEPS_PER_TURN } from '../../runtime/hsm/active-object.ts';
import { realEnvironment, type Environment, type TimerHandle } from '../../runtime/env/environment.ts';

class Worker extends ActiveObject {
  seen: string[] = [];
  /** Set by the handler of LAST once it has returned from drained() being called inside it. */
  handlerDone = false;
  idleFromInside: Promise<void> | undefined;
}

const working: State = function working(chart, e) {
  const w = chart as Worker;
  if (e.signal > 10) {
    w.seen.push(e.signalName);
    if (e.signalName === 'CHAIN') w.postFifo(new Event('FOLLOW_UP'));
    if (e.signalName === 'LAST') {
      w.idleFromInside = w.drained();
      w.handlerDone = true;
    }
    return ReturnStatus.HANDLED;
  }
  return chart.super(chart.top);
};

const live: ActiveObject[] = [];
function make(options: { environment?: Environment } = {}): Worker {
  const w = new Worker({ name: 'worker', instrumented: true, ...options });
  live.push(w);
  return w;
}
afterEach(async () => {
  await Promise.all(live.splice(0).map((ao) => ao.stop()));
});

describe('ActiveObject.drained()', () => {
  it('resolves at once when the chart is idle', async () => {
    const w = make();
    w.startAt(working);
    let resolved = false;
    void w.drained().then(() => (resolved = true));
    await Promise.resolve();
    expect(resolved).toBe(true);
  });

  it('resolves once every queued event (several macrotasks of steps) has been handled, not before', async () => {
    const w = make();
    w.startAt(working);
    const n = 3 * STEPS_PER_TURN + 1;
    for (let i = 0; i < n; i++) w.postFifo(new Event(`E${i}`));
    let resolved = false;
    const idle = w.drained().then(() => (resolved = true));
    await new Promise<void>((r) => setImmediate(r)); // one macrotask: one turn of steps
    expect(resolved).toBe(false);
    expect(w.seen.length).toBeLessThan(n);
    await idle;
    expect(w.seen).toHaveLength(n);
    expect(w.queue.length).toBe(0);
  });

  it('waits for what the handled events post in turn', async () => {
    const w = make();
    w.startAt(working);
    w.postFifo(new Event('CHAIN'));
    await w.drained();
    expect(w.seen).toEqual(['CHAIN', 'FOLLOW_UP']);
  });

  it('called inside a step, resolves only after that step has ended', async () => {
    const w = make();
    w.startAt(working);
    w.postFifo(new Event('LAST'));
    await w.drained();
    expect(w.idleFromInside).toBeDefined();
    let insideResolved = false;
    await w.idleFromInside!.then(() => (insideResolved = w.handlerDone));
    expect(insideResolved).toBe(true);
  });

  it('waits for startAt when events were posted before it', async () => {
    const w = make();
    w.postFifo(new Event('EARLY'));
    let resolved = false;
    const idle = w.drained().then(() => (resolved = true));
    await new Promise<void>((r) => setImmediate(r));
    expect(resolved).toBe(false);
    w.startAt(working);
    await idle;
    expect(w.seen).toEqual(['EARLY']);
  });

  it('resolves when the chart is stopped, leaving what is queued in the queue', async () => {
    const w = make();
    w.startAt(working);
    w.postFifo(new Event('A'));
    w.postFifo(new Event('B'));
    const idle = w.drained();
    await w.stop(); // before the drain's macrotask ran
    await idle;
    expect(w.seen).toEqual([]);
    expect(w.queue.length).toBe(2);
  });
});

/** An environment whose immediates, intervals, ids and clock are the test's. */
function manualEnvironment(): Environment & { immediates: (() => void)[]; intervals: Map<number, () => void>; runImmediates(): void } {
  const immediates: (() => void)[] = [];
  const intervals = new Map<number, () => void>();
  let nextId = 0;
  let uuid = 0;
  const handle = (id: number): TimerHandle & { id: number } => ({ id, unref: () => undefined });
  return {
    ...realEnvironment,
    immediates,
    intervals,
    nowMicros: () => Date.UTC(2026, 0, 2, 3, 4, 5) * 1000 + 123_456,
    randomUUID: () => `id-${++uuid}`,
    setImmediate: (fn) => (immediates.push(fn), handle(++nextId)),
    clearImmediate: () => undefined,
    setInterval: (fn) => {
      const id = ++nextId;
      intervals.set(id, fn);
      return handle(id);
    },
    clearInterval: (h) => void intervals.delete((h as { id: number } | undefined)?.id ?? -1),
    runImmediates() {
      while (immediates.length > 0) immediates.shift()!();
    },
  };
}

describe('ActiveObject on its environment', () => {
  it('drains on the environment\'s immediates, stamps the trace with its clock, posts periodically on its intervals', async () => {
    const env = manualEnvironment();
    const w = make({ environment: env });
    w.startAt(working);
    w.postFifo(new Event('ONE'));
    expect(env.immediates).toHaveLength(1);
    expect(w.seen).toEqual([]);
    env.runImmediates();
    expect(w.seen).toEqual(['ONE']);
    const micros = env.nowMicros();
    const d = new Date(Math.floor(micros / 1000));
    const pad = (n: number) => String(n).padStart(2, '0');
    const stamp = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.123456`;
    expect(w.trace()).toContain(`[${stamp}] [worker] e->start_at() top->working`);

    const id = w.postFifo(new Event('TICK'), { period: 1 });
    expect(id).toBe('id-1');
    expect(env.intervals.size).toBe(1);
    [...env.intervals.values()][0]();
    env.runImmediates();
    expect(w.seen).toEqual(['ONE', 'TICK']);
    expect(w.cancelEvent(id!)).toBe(true);
    expect(env.intervals.size).toBe(0);
    await w.drained();
  });
});
