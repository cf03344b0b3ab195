import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ActiveObject, Event, ReturnStatus, signals, uuid5, NAMESPACE_DNS, stripped } from '../../runtime/hsm/index.ts';
import { STEPS_PER_TURN } from '../../runtime/hsm/active-object.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** A chart that counts the events it gets, by signal name. */
class Counter extends ActiveObject {
  counts: Record<string, number> = {};
  seen: string[] = [];
}

function counting(chart: Counter, e: Event): ReturnStatus {
  if (e.signal > 10) {
    chart.counts[e.signalName] = (chart.counts[e.signalName] ?? 0) + 1;
    chart.seen.push(e.signalName);
    if (e.signalName === 'BOOM') throw new Error('kaboom');
    if (e.signalName === 'SHOUT') chart.publish(new Event('NEWS', 'hello'));
    return ReturnStatus.HANDLED;
  }
  return chart.super(chart.top);
}

const live: ActiveObject[] = [];
function make(name?: string): Counter {
  const ao = new Counter(name === undefined ? {} : { name });
  live.push(ao);
  return ao;
}

// Every timing here runs on vitest's fake timers (setInterval, setTimeout and setImmediate
// faked): exact counts at exact virtual times, no sleeping, no flakiness on a busy machine.
// An immediate scheduled during a tick runs on the next one, hence the +1 ms in places.
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate', 'clearImmediate'] });
});
afterEach(async () => {
  await Promise.all(live.splice(0).map((ao) => ao.stop()));
  vi.useRealTimers();
});

describe('ActiveObject: queue draining', () => {
  it('runs init synchronously and drains posted events asynchronously, STEPS_PER_TURN RTC steps per macrotask', async () => {
    const ao = make('drain');
    ao.startAt(counting);
    expect(ao.currentState()).toBe('counting');
    const names = Array.from({ length: STEPS_PER_TURN + 2 }, (_, i) => `E${i}`);
    for (const name of names) ao.postFifo(new Event(name));
    expect(ao.seen).toEqual([]); // nothing ran synchronously
    vi.runOnlyPendingTimers(); // the one immediate scheduled so far: one turn
    expect(ao.seen).toEqual(names.slice(0, STEPS_PER_TURN));
    await vi.advanceTimersByTimeAsync(1); // the rest in the next turn, I/O in between
    expect(ao.seen).toEqual(names);
  });

  it('names an unnamed chart like miros: uuid5(NAMESPACE_DNS, state name)[0:5]', () => {
    expect(uuid5(NAMESPACE_DNS, 'python.org')).toBe('886313e1-3b8a-5372-9b90-0c9aee199e5d');
    const ao = make();
    ao.startAt(counting);
    expect(ao.name).toBe(uuid5(NAMESPACE_DNS, 'counting').slice(0, 5));
    expect(stripped(ao.trace() as string)).toEqual([`[${ao.name}] e->start_at() top->counting`]);
  });

  it('trace() is undefined until a state ran', () => {
    const ao = make('t');
    expect(ao.trace()).toBeUndefined();
    ao.startAt(counting);
    expect(ao.trace()).toBeDefined();
  });
});

describe('ActiveObject: periodic events', () => {
  it('posts a periodic event with times=3 exactly three times, then stops', async () => {
    const ao = make('periodic');
    ao.startAt(counting);
    const id = ao.postFifo(new Event('TICK'), { period: 0.02, times: 3 });
    expect(typeof id).toBe('string');
    // posted at 20, 40, 60 ms; each handled 1 ms later (its immediate runs on the next tick)
    await vi.advanceTimersByTimeAsync(59);
    expect(ao.counts.TICK).toBe(2);
    await vi.advanceTimersByTimeAsync(2);
    expect(ao.counts.TICK).toBe(3);
    expect(ao.postedEvents()).toEqual([]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(ao.counts.TICK).toBe(3);
  });

  it('waits one period first by default', async () => {
    const ao = make('deferred');
    ao.startAt(counting);
    ao.postFifo(new Event('SLOW'), { period: 0.3, times: 1 });
    await vi.advanceTimersByTimeAsync(299);
    expect(ao.counts.SLOW).toBeUndefined();
    await vi.advanceTimersByTimeAsync(2);
    expect(ao.counts.SLOW).toBe(1);
  });

  it('fires at once with deferred: false', async () => {
    const ao = make('eager');
    ao.startAt(counting);
    ao.postLifo(new Event('NOW'), { period: 5, times: 2, deferred: false });
    await vi.advanceTimersByTimeAsync(1);
    expect(ao.counts.NOW).toBe(1);
    await vi.advanceTimersByTimeAsync(5000);
    expect(ao.counts.NOW).toBe(2);
  });

  it('cancelEvent stops a forever-periodic event; cancelEvents stops by signal', async () => {
    const ao = make('cancel');
    ao.startAt(counting);
    const id = ao.postFifo(new Event('BEAT'), { period: 0.02 }) as string;
    ao.postFifo(new Event('DRUM'), { period: 0.02 });
    ao.postFifo(new Event('DRUM'), { period: 0.03 });
    await vi.advanceTimersByTimeAsync(110);
    expect(ao.counts).toEqual({ BEAT: 5, DRUM: 5 + 3 });
    expect(ao.cancelEvent(id)).toBe(true);
    expect(ao.cancelEvent(id)).toBe(false);
    expect(ao.cancelEvents('DRUM')).toBe(2);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(ao.counts).toEqual({ BEAT: 5, DRUM: 8 });
  });
});

describe('ActiveObject: publish and subscribe', () => {
  it('delivers a published event to a subscribed ActiveObject, with miros spy lines', async () => {
    const listener = make('listener');
    const talker = make('talker');
    listener.subscribe('NEWS'); // before start: the line shows before START
    listener.startAt(counting);
    talker.startAt(counting);
    expect(listener.spy()?.slice(0, 2)).toEqual(['SUBSCRIBING TO:(NEWS, TYPE:fifo)', 'START']);
    talker.clearSpy();
    talker.postFifo(new Event('SHOUT'));
    await vi.advanceTimersByTimeAsync(30);
    expect(listener.counts.NEWS).toBe(1);
    expect(talker.counts.NEWS).toBeUndefined(); // not subscribed
    expect(talker.spy()).toContain('PUBLISH:(NEWS, PRIORITY:1000)');
  });

  it('delivers higher priority (lower number) publications first and lifo subscriptions to the front', async () => {
    const ao = make('prio');
    ao.subscribe('LOW');
    ao.subscribe(new Event('HIGH'));
    ao.subscribe(signals.append('FRONT'), 'lifo');
    ao.startAt(counting);
    ao.postFifo(new Event('ALREADY'));
    ao.publish(new Event('LOW'), 2000);
    ao.publish(new Event('HIGH'), 1);
    ao.publish(new Event('FRONT'));
    await vi.advanceTimersByTimeAsync(40);
    expect(ao.seen).toEqual(['FRONT', 'ALREADY', 'HIGH', 'LOW']);
  });

  it('stop() removes the subscriptions', async () => {
    const a = make('a');
    const b = make('b');
    a.subscribe('GONE');
    a.startAt(counting);
    b.startAt(counting);
    await a.stop();
    b.publish(new Event('GONE'));
    await vi.advanceTimersByTimeAsync(20);
    expect(a.counts.GONE).toBeUndefined();
  });
});

describe('ActiveObject: errors in states', () => {
  it('reports an exception with chart name and signal, and keeps working', async () => {
    const reports: Array<{ error: unknown; chart: string | undefined; signal: string | undefined }> = [];
    const ao = new Counter({
      name: 'fragile',
      onError: (error, ctx) => reports.push({ error, chart: ctx.chart, signal: ctx.event?.signalName }),
    });
    live.push(ao);
    ao.startAt(counting);
    ao.postFifo(new Event('BOOM'));
    ao.postFifo(new Event('AFTER'));
    await vi.advanceTimersByTimeAsync(30);
    expect(reports).toHaveLength(1);
    expect(reports[0]!.chart).toBe('fragile');
    expect(reports[0]!.signal).toBe('BOOM');
    expect((reports[0]!.error as Error).message).toBe('kaboom');
    expect(ao.counts.AFTER).toBe(1);
    expect(ao.currentState()).toBe('counting');
    ao.postFifo(new Event('LATER'));
    await vi.advanceTimersByTimeAsync(20);
    expect(ao.counts.LATER).toBe(1);
  });
});

describe('ActiveObject: stop', () => {
  it('lets the process exit after stop() although a forever-periodic event was running', { timeout: 30_000 }, () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'hsm-stop-'));
    const script = path.join(dir, 'stop.ts');
    const engine = pathToFileURL(path.join(repoRoot, 'runtime/hsm/index.ts')).href;
    writeFileSync(
      script,
      `import { ActiveObject, Event, ReturnStatus } from ${JSON.stringify(engine)};
function idle(chart: any, e: Event): ReturnStatus {
  return e.signal > 10 ? ReturnStatus.HANDLED : chart.super(chart.top);
}
const ao = new ActiveObject({ name: 'stopper' });
ao.subscribe('ANY');
ao.startAt(idle);
ao.postFifo(new Event('TICK'), { period: 0.01 });
ao.postFifo(new Event('TOCK'), { period: 60 });
setTimeout(() => { void ao.stop().then(() => console.log('stopped')); }, 100);
`,
    );
    const started = Date.now();
    const r = spawnSync(process.execPath, ['--import', 'tsx', script], { cwd: repoRoot, encoding: 'utf8', timeout: 15_000 });
    expect(r.error).toBeUndefined();
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe('stopped');
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
