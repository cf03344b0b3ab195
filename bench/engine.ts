/**
 * Engine throughput: Samek's comprehensive chart (test/fixtures/conformance/cases/
 * comprehensive.json) written as TS state functions, driven with that case's
 * event sequence over and over, with instrumentation off and on, against the
 * same chart in XState v5 driven with the same events.
 *
 * `benchEngine()` prints nothing (bench/index.ts prints); `npx tsx bench/engine.ts`
 * prints the figures.
 */
import { pathToFileURL } from 'node:url';
import { assign, createActor, createMachine } from 'xstate';
import { Event, HsmWithQueues, ReturnStatus, signals, type State } from '../runtime/hsm/index.ts';

/** The event sequence of comprehensive.json. */
export const COMPREHENSIVE_EVENTS = ['A', 'B', 'D', 'H', 'G', 'C', 'C', 'F', 'E', 'F', 'F', 'A', 'B', 'D', 'H', 'D', 'D', 'I', 'I'];

/** Chart attributes of the comprehensive chart, plus a log sink (the case's `log` action). */
export class ComprehensiveChart extends HsmWithQueues {
  foo: number | null = null;
  logged = 0;
  lastLog = '';
  write(text: string): void {
    this.logged++;
    this.lastLog = text;
  }
}

const { ENTRY_SIGNAL, EXIT_SIGNAL, INIT_SIGNAL } = signals;
const A = signals.append('A');
const B = signals.append('B');
const C = signals.append('C');
const D = signals.append('D');
const E = signals.append('E');
const F = signals.append('F');
const G = signals.append('G');
const H = signals.append('H');
const I = signals.append('I');

type C_ = ComprehensiveChart;

function ss(c: C_, e: Event): ReturnStatus {
  switch (e.signal) {
    case ENTRY_SIGNAL:
      c.write('s-ENTRY');
      return ReturnStatus.HANDLED;
    case INIT_SIGNAL:
      c.write('s-INIT');
      return c.trans(ss11);
    case EXIT_SIGNAL:
      c.write('s-EXIT');
      return ReturnStatus.HANDLED;
    case E:
      c.write('s-E');
      return c.trans(ss11);
    case I:
      c.write('s-I');
      if (c.foo) {
        c.write('foo = 0');
        c.foo = 0;
      }
      return ReturnStatus.HANDLED;
  }
  return c.super(c.top);
}

function ss1(c: C_, e: Event): ReturnStatus {
  switch (e.signal) {
    case ENTRY_SIGNAL:
      c.write('s1-ENTRY');
      return ReturnStatus.HANDLED;
    case INIT_SIGNAL:
      c.write('s1-INIT');
      return c.trans(ss11);
    case EXIT_SIGNAL:
      c.write('s1-EXIT');
      return ReturnStatus.HANDLED;
    case A:
      c.write('s1-A');
      return c.trans(ss1);
    case B:
      c.write('s1-B');
      return c.trans(ss11);
    case C:
      c.write('s1-C');
      return c.trans(ss2);
    case D:
      if (c.foo) return ReturnStatus.UNHANDLED;
      c.write('s1-D');
      c.foo = 1;
      c.write('foo = 1');
      return c.trans(ss);
    case F:
      c.write('s1-F');
      return c.trans(ss211);
  }
  return c.super(ss);
}

function ss11(c: C_, e: Event): ReturnStatus {
  switch (e.signal) {
    case ENTRY_SIGNAL:
      c.write('s11-ENTRY');
      return ReturnStatus.HANDLED;
    case EXIT_SIGNAL:
      c.write('s11-EXIT');
      return ReturnStatus.HANDLED;
    case D:
      if (!c.foo) return ReturnStatus.UNHANDLED;
      c.write('s11-D');
      c.foo = 0;
      c.write('foo = 0');
      return c.trans(ss1);
    case G:
      c.write('s11-G');
      return c.trans(ss211);
    case H:
      c.write('s11-H');
      return c.trans(ss);
  }
  return c.super(ss1);
}

function ss2(c: C_, e: Event): ReturnStatus {
  switch (e.signal) {
    case ENTRY_SIGNAL:
      c.write('s2-ENTRY');
      return ReturnStatus.HANDLED;
    case INIT_SIGNAL:
      c.write('s2-INIT');
      return c.trans(ss211);
    case EXIT_SIGNAL:
      c.write('s2-EXIT');
      return ReturnStatus.HANDLED;
    case I:
      c.write('s2-I');
      if (!c.foo) {
        c.write('foo = 1');
        c.foo = 1;
      }
      return ReturnStatus.HANDLED;
    case C:
      c.write('s2-C');
      return c.trans(ss1);
    case F:
      c.write('s2-F');
      return c.trans(ss11);
  }
  return c.super(ss);
}

function ss21(c: C_, e: Event): ReturnStatus {
  switch (e.signal) {
    case ENTRY_SIGNAL:
      c.write('s21-ENTRY');
      return ReturnStatus.HANDLED;
    case INIT_SIGNAL:
      c.write('s21-INIT');
      return c.trans(ss211);
    case EXIT_SIGNAL:
      c.write('s21-EXIT');
      return ReturnStatus.HANDLED;
    case A:
      c.write('s21-A');
      return c.trans(ss21);
    case B:
      c.write('s21-B');
      return c.trans(ss211);
    case G:
      c.write('s21-G');
      return c.trans(ss11);
  }
  return c.super(ss2);
}

function ss211(c: C_, e: Event): ReturnStatus {
  switch (e.signal) {
    case ENTRY_SIGNAL:
      c.write('s211-ENTRY');
      return ReturnStatus.HANDLED;
    case EXIT_SIGNAL:
      c.write('s211-EXIT');
      return ReturnStatus.HANDLED;
    case D:
      c.write('s211-D');
      return c.trans(ss21);
    case H:
      c.write('s211-H');
      return c.trans(ss);
  }
  return c.super(ss21);
}

/** The start state of the comprehensive case. */
export const COMPREHENSIVE_START: State = ss2;

/** A started comprehensive chart (named like the case, so its spy/trace match expected/comprehensive.json). */
export function comprehensiveChart(instrumented: boolean): ComprehensiveChart {
  const chart = new ComprehensiveChart({ name: 'test_group_13', instrumented });
  chart.startAt(COMPREHENSIVE_START);
  return chart;
}

/**
 * The same chart in XState v5. miros transitions to an ancestor are local
 * (the ancestor is not exited) and followed by the ancestor's init
 * transition; XState ignores a non-reentering transition to an active
 * ancestor, so those are written as transitions to where the init chain
 * lands (exits/entries as in miros).
 */
export function comprehensiveMachine() {
  let logged = 0;
  const log = (text: string) => () => {
    logged++;
    void text;
  };
  const machine = createMachine({
    id: 'comprehensive',
    types: {} as { context: { foo: number | null } },
    context: { foo: null },
    initial: 'ss',
    states: {
      ss: {
        id: 'ss',
        entry: log('s-ENTRY'),
        exit: log('s-EXIT'),
        initial: 'ss2',
        on: {
          E: { target: '#ss11', actions: log('s-E') },
          I: { actions: [log('s-I'), assign({ foo: ({ context }) => (context.foo ? 0 : context.foo) })] },
        },
        states: {
          ss1: {
            id: 'ss1',
            entry: log('s1-ENTRY'),
            exit: log('s1-EXIT'),
            initial: 'ss11',
            on: {
              A: { target: '#ss1', reenter: true, actions: log('s1-A') },
              B: { target: '#ss11', actions: log('s1-B') },
              C: { target: '#ss2', actions: log('s1-C') },
              // → ss: ss1 exited, ss's init enters ss1 again
              D: { guard: ({ context }) => !context.foo, target: '#ss1', reenter: true, actions: [log('s1-D'), assign({ foo: 1 })] },
              F: { target: '#ss211', actions: log('s1-F') },
            },
            states: {
              ss11: {
                id: 'ss11',
                entry: log('s11-ENTRY'),
                exit: log('s11-EXIT'),
                on: {
                  // → ss1 (parent): ss11 exited, ss1's init enters it again
                  D: { guard: ({ context }) => !!context.foo, target: '#ss11', reenter: true, actions: [log('s11-D'), assign({ foo: 0 })] },
                  G: { target: '#ss211', actions: log('s11-G') },
                  // → ss: ss11 and ss1 exited, ss's init enters ss1, ss11
                  H: { target: '#ss1', reenter: true, actions: log('s11-H') },
                },
              },
            },
          },
          ss2: {
            id: 'ss2',
            entry: log('s2-ENTRY'),
            exit: log('s2-EXIT'),
            initial: 'ss21',
            on: {
              I: { actions: [log('s2-I'), assign({ foo: ({ context }) => (context.foo ? context.foo : 1) })] },
              C: { target: '#ss1', actions: log('s2-C') },
              F: { target: '#ss11', actions: log('s2-F') },
            },
            states: {
              ss21: {
                id: 'ss21',
                entry: log('s21-ENTRY'),
                exit: log('s21-EXIT'),
                initial: 'ss211',
                on: {
                  A: { target: '#ss21', reenter: true, actions: log('s21-A') },
                  B: { target: '#ss211', actions: log('s21-B') },
                  G: { target: '#ss11', actions: log('s21-G') },
                },
                states: {
                  ss211: {
                    id: 'ss211',
                    entry: log('s211-ENTRY'),
                    exit: log('s211-EXIT'),
                    on: {
                      // → ss21 (parent): ss211 exited, ss21's init enters it again
                      D: { target: '#ss211', reenter: true, actions: log('s211-D') },
                      // → ss: ss2 side exited, ss's init enters ss1, ss11
                      H: { target: '#ss11', actions: log('s211-H') },
                    },
                  },
                },
              },
            },
          },
        },
      },
    },
  });
  return { machine, logged: () => logged };
}

/** The leaf state name of an XState snapshot value of the comprehensive machine. */
export function leafOf(value: unknown): string {
  let v = value;
  for (;;) {
    if (typeof v === 'string') return v;
    const entries = Object.entries(v as Record<string, unknown>);
    if (entries.length !== 1) throw new Error(`unexpected state value ${JSON.stringify(value)}`);
    v = (entries[0] as [string, unknown])[1];
  }
}

export interface EngineBench {
  rows: Array<{ name: string; eventsPerSec: number }>;
  ratios: Record<string, number>;
}

/** Events between two reads of the instrumented charts' spy and trace (≤ 20 spy lines per event here). */
const READ_EVERY = 16;
/** What the reads saw (kept so that the reads cannot be optimised away). */
export const readSink = { lines: 0, chars: 0 };

/** Reads every spy line and the trace like a consumer would (each line's text is touched), then clears both. */
export function readAll(chart: HsmWithQueues): void {
  const spy = chart.spy() ?? [];
  let chars = 0;
  for (const line of spy) chars += line.length + line.charCodeAt(line.length - 1);
  const trace = chart.trace() ?? '';
  chars += trace.length + trace.charCodeAt(trace.length - 1);
  readSink.lines += spy.length;
  readSink.chars += chars;
  chart.clearSpy();
  chart.clearTrace();
}

/** Events per second of `send`, best of `rounds` rounds of `perRound` events, after a warm-up round. */
function measure(send: (i: number) => void, perRound: number, rounds: number): number {
  for (let i = 0; i < perRound; i++) send(i);
  let best = 0;
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    for (let i = 0; i < perRound; i++) send(i);
    const ms = performance.now() - t0;
    best = Math.max(best, (perRound * 1000) / ms);
  }
  return best;
}

/**
 * Events per second of each side, best of `rounds` rounds of `perRound` events, after a
 * warm-up round each. The sides take turns in every round: a machine whose load drifts
 * does not land on one side only, and each side runs with the engine's code compiled for
 * both (the plain side is not measured before the instrumented one has ever run).
 */
function measureInTurn(sides: Array<(i: number) => void>, perRound: number, rounds: number): number[] {
  for (const send of sides) for (let i = 0; i < perRound; i++) send(i);
  const best = sides.map(() => 0);
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < sides.length; k++) {
      const send = sides[k] as (i: number) => void;
      const t0 = performance.now();
      for (let i = 0; i < perRound; i++) send(i);
      const ms = performance.now() - t0;
      best[k] = Math.max(best[k] as number, (perRound * 1000) / ms);
    }
  }
  return best;
}

export async function benchEngine(options: { events?: number; rounds?: number } = {}): Promise<EngineBench> {
  const perRound = options.events ?? 100_000;
  const rounds = options.rounds ?? 7;
  const events = COMPREHENSIVE_EVENTS.map((s) => new Event(s));
  const n = events.length;

  const off = comprehensiveChart(false);
  // The instrumented loops read every spy and trace line they produce (what spy()/trace()
  // return, each line touched), then clear, so a deferred formatter does the same work as
  // an eager one. READ_EVERY events stay far below the 500-line ring buffers.
  const on = comprehensiveChart(true);
  const onQueued = comprehensiveChart(true);
  const [offRate, onRate, queuedRate] = measureInTurn(
    [
      (i) => off.dispatch(events[i % n] as Event),
      (i) => {
        on.dispatch(events[i % n] as Event);
        if (i % READ_EVERY === READ_EVERY - 1) readAll(on);
      },
      (i) => {
        onQueued.postFifo(events[i % n] as Event);
        onQueued.nextRtc();
        if (i % READ_EVERY === READ_EVERY - 1) readAll(onQueued);
      },
    ],
    perRound,
    rounds,
  ) as [number, number, number];
  if (readSink.lines === 0) throw new Error('the instrumented bench read no spy line');

  const xEvents = COMPREHENSIVE_EVENTS.map((type) => ({ type }));
  const { machine } = comprehensiveMachine();
  const actor = createActor(machine).start();
  const xRate = measure((i) => actor.send(xEvents[i % n] as { type: string }), Math.max(1, Math.floor(perRound / 4)), rounds);
  actor.stop();

  return {
    rows: [
      { name: 'miros engine, instrumentation off', eventsPerSec: offRate },
      { name: 'miros engine, instrumentation on', eventsPerSec: onRate },
      { name: 'miros engine, instrumented + queue/RTC', eventsPerSec: queuedRate },
      { name: 'xstate v5 (same chart, same events)', eventsPerSec: xRate },
    ],
    ratios: {
      'instrumented / plain': onRate / offRate,
      'instrumented+queue / plain': queuedRate / offRate,
      'engine-off / xstate': offRate / xRate,
      'engine-on / xstate': onRate / xRate,
    },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { rows, ratios } = await benchEngine();
  const fmt = (x: number, d = 0) => x.toLocaleString('en-US', { maximumFractionDigits: d });
  for (const row of rows) console.log(`${row.name.padEnd(42)} ${fmt(row.eventsPerSec).padStart(12)} events/s`);
  for (const [name, ratio] of Object.entries(ratios)) console.log(`${name.padEnd(42)} ${fmt(ratio, 2).padStart(12)} ×`);
}
