// The one seam for time, timers, randomness and the transport. Every module of runtime/ reads
// the clock, sets timers, draws random numbers and dials brokers through an `Environment`;
// this module is the only one that touches the real ones (test/unit/environment-scan.test.ts
// enforces it). A simulation or a test passes its own (a virtual clock, a fake transport).
//
// The real environment looks the globals up at call time (not at import), so vitest's fake
// timers (`vi.useFakeTimers`), installed after this module is loaded, still intercept them.
import { randomBytes, randomFillSync, randomUUID } from 'node:crypto';
import { networkInterfaces } from 'node:os';
import type { ChannelModel, Options, RecoveringChannelModel, RecoveryOptions, SocketOptions } from 'amqplib';

/** A timer handle: `unref()` lets the process exit while it is pending (Node's Timeout/Immediate). */
export interface TimerHandle {
  unref(): unknown;
}

/** amqplib's `connect`: with `recovery` a recovering channel model, without it a plain one. */
export interface Connect {
  (url: string | Options.Connect, options: SocketOptions & { recovery: RecoveryOptions | true }): Promise<RecoveringChannelModel>;
  (url: string | Options.Connect, options?: SocketOptions): Promise<ChannelModel>;
}

export interface Environment {
  /** Wall clock, milliseconds since the epoch (Date.now). */
  now(): number;
  /** Monotonic clock in milliseconds from an arbitrary origin (performance.now). */
  monotonicMs(): number;
  /** Wall-clock time in microseconds since the epoch, advancing with the monotonic clock. */
  nowMicros(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
  setInterval(fn: () => void, ms: number): TimerHandle;
  clearInterval(handle: TimerHandle | undefined): void;
  setImmediate(fn: () => void): TimerHandle;
  clearImmediate(handle: TimerHandle | undefined): void;
  /** A number in [0, 1). */
  random(): number;
  /** `n` random bytes (IVs, keys, incarnation ids). */
  randomBytes(n: number): Buffer;
  /** Fills `buffer` with random bytes (the Fernet IV pool). */
  randomFill(buffer: Buffer): Buffer;
  /** A random v4 UUID. */
  randomUUID(): string;
  /** Dials a broker (amqplib's connect). */
  connect: Connect;
  /** This host's network interfaces (os.networkInterfaces: learnHostsFrom "interfaces"); absent: the real ones. */
  networkInterfaces?(): ReturnType<typeof networkInterfaces>;
}

const TIME_ORIGIN = performance.timeOrigin;

/** The real clock, timers, randomness and amqplib. */
export const realEnvironment: Environment = Object.freeze({
  now: () => Date.now(),
  monotonicMs: () => performance.now(),
  nowMicros: () => Math.floor((TIME_ORIGIN + performance.now()) * 1000),
  setTimeout: (fn: () => void, ms: number): TimerHandle => setTimeout(fn, ms),
  clearTimeout: (handle: TimerHandle | undefined): void => clearTimeout(handle as NodeJS.Timeout | undefined),
  setInterval: (fn: () => void, ms: number): TimerHandle => setInterval(fn, ms),
  clearInterval: (handle: TimerHandle | undefined): void => clearInterval(handle as NodeJS.Timeout | undefined),
  setImmediate: (fn: () => void): TimerHandle => setImmediate(fn),
  clearImmediate: (handle: TimerHandle | undefined): void => clearImmediate(handle as NodeJS.Immediate | undefined),
  random: () => Math.random(),
  randomBytes: (n: number) => randomBytes(n),
  randomFill: (buffer: Buffer) => randomFillSync(buffer),
  randomUUID: () => randomUUID(),
  // amqplib is loaded on the first connect: what never dials (keygen, the engine) never loads it
  connect: (async (url: string | Options.Connect, options?: SocketOptions) => (await import('amqplib')).connect(url, options)) as Connect,
  networkInterfaces: () => networkInterfaces(),
});

/**
 * The calendar date of `ms` (milliseconds since the epoch): a conversion, not a clock read,
 * kept here so that no other module of runtime/ constructs Dates.
 */
export function dateAt(ms: number): Date {
  return new Date(ms);
}
