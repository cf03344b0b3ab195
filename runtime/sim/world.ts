// The simulated world: one virtual clock and event queue, seeded random streams, simulated
// processes (each with its own Environment: clock, timers, randomness, connect) and simulated
// RabbitMQ nodes they dial. The runtime's own code (charts, NetworkedActiveObject, outbox,
// receiver, envelope, Fernet) runs unchanged on a process's environment; only the transport
// below amqplib's interface is simulated (amqp.ts, broker.ts).
//
// Events run in (virtual time, insertion number) order; between two events every promise job
// runs to completion (drainJobs: a microtask that queues a process tick, which Node runs only once
// the microtask queue is empty; the world never waits on the host's event loop).
import type { Options, RecoveryOptions, SocketOptions } from 'amqplib';
import { type Connect, type Environment, type TimerHandle } from '../env/environment.ts';
import { SimChannelModel, SimRecoveringModel, type SimFlowCounters } from './amqp.ts';
import { SimBroker, type ClientConnectionPort, type SimBrokerOptions } from './broker.ts';
import { seededStream, type SimRandom } from './random.ts';
import { EventQueue } from './scheduler.ts';

/** The wall clock at virtual time 0: 2023-11-14T22:13:20Z. */
export const SIM_EPOCH_MS = 1_700_000_000_000;

/** Bounds on what a program can make the world grow. */
export const SIM_LIMITS = {
  processes: 10_000,
  brokers: 1_000,
  streams: 100_000,
  /** Connections one process holds open at once. */
  connectionsPerProcess: 10_000,
} as const;


export interface SimProcess {
  readonly name: string;
  /** This process's clock, timers, randomness (stream 'proc:<name>') and connect. */
  readonly environment: Environment;
  /** False once killed. */
  readonly alive: boolean;
  /** SIGKILL: its connections drop abruptly (the brokers notice), its timers never fire again, connect fails. */
  kill(): void;
  /** Steps this process's wall clock (now()) by `ms` (NTP, a VM resume); its monotonic clock and timers are unaffected. */
  stepClock(ms: number): void;
  /** The connections it holds open now (faults: partitions, latency). */
  connections(): SimChannelModel[];
  /** What it did against its brokers' flow control, over all its connections (the checker reads it). */
  readonly flow: Readonly<SimFlowCounters>;
  /**
   * Spends `ms` virtual ms of this process's CPU now (a handler's own computation: ChartContext.work).
   * The process is single-threaded: its setImmediate callbacks (a chart's next drain turn, a
   * receiver's ack flush, an outbox's sends) that come due meanwhile run once it is free, in the
   * order they came due. Timers and socket reads run when due: Node runs them before the
   * immediates of the next turn, so they keep their order with the chart's turns.
   */
  compute(ms: number): void;
}

export interface SimRunOptions {
  /** Stop before the first event after this virtual time (ms since the world began); the clock is then set to it. */
  untilMs?: number;
  /** At most this many events (default 1,000,000): more throws. A world with a running chart never goes idle (its timers repeat): give untilMs. */
  maxSteps?: number;
}

interface DialTarget {
  hostname?: string;
  port?: number;
  username?: string;
  password?: string;
}

type ConnectOptions = SocketOptions & { recovery?: RecoveryOptions | true; clientProperties?: { connection_name?: string } };

class SimTimer implements TimerHandle {
  id = 0;
  constructor(readonly owner: ProcessState) {}
  unref(): this {
    return this;
  }
}

class ProcessState implements SimProcess {
  alive = true;
  private clockOffsetMs = 0;
  /** Virtual ms (world.elapsedMs) until which its CPU is busy (compute): its immediates wait. */
  private busyUntil = 0;
  readonly timers = new Set<SimTimer>();
  readonly models = new Set<SimChannelModel>();
  readonly flow: SimFlowCounters = { publishedWhileBlocked: 0, channelsOpenedWhileBlocked: 0 };
  readonly environment: Environment;
  private readonly random: SimRandom;

  constructor(
    readonly name: string,
    private readonly world: SimWorld,
  ) {
    this.random = world.stream(`proc:${name}`);
    const uuid = (): string => {
      const b = this.random.bytes(16);
      b[6] = (b[6] & 0x0f) | 0x40;
      b[8] = (b[8] & 0x3f) | 0x80;
      const h = b.toString('hex');
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
    };
    // the keys are quoted: they name the Environment's methods, not the host's timers
    // (test/unit/environment-scan.test.ts looks for bare uses of those names)
    this.environment = Object.freeze({
      now: () => world.nowMs() + this.clockOffsetMs,
      monotonicMs: () => world.elapsedMs,
      nowMicros: () => (world.nowMs() + this.clockOffsetMs) * 1000,
      'setTimeout': (fn: () => void, ms: number): TimerHandle => this.timer(fn, ms, undefined),
      'clearTimeout': (h: TimerHandle | undefined) => this.clear(h),
      'setInterval': (fn: () => void, ms: number): TimerHandle => this.timer(fn, ms, ms),
      'clearInterval': (h: TimerHandle | undefined) => this.clear(h),
      'setImmediate': (fn: () => void): TimerHandle => this.timer(fn, 0, undefined, true),
      'clearImmediate': (h: TimerHandle | undefined) => this.clear(h),
      random: () => this.random.next(),
      'randomBytes': (n: number) => this.random.bytes(n),
      randomFill: (buffer: Buffer) => {
        this.random.bytes(buffer.length).copy(buffer);
        return buffer;
      },
      'randomUUID': uuid,
      connect: ((url: string | DialTarget, options?: ConnectOptions) => this.connect(url, options)) as unknown as Connect,
      networkInterfaces: () => simInterfaces(),
    });
  }

  stepClock(ms: number): void {
    this.clockOffsetMs += ms;
  }

  connections(): SimChannelModel[] {
    return [...this.models];
  }

  compute(ms: number): void {
    if (!(Number.isFinite(ms) && ms > 0)) return;
    this.busyUntil = Math.max(this.busyUntil, this.world.elapsedMs) + ms;
  }

  kill(): void {
    if (!this.alive) return;
    this.alive = false;
    for (const t of this.timers) this.world.cancel(t.id);
    this.timers.clear();
    for (const model of [...this.models]) {
      const broker = model.broker;
      const remote = model.remote;
      model.abort();
      // the kernel closes the socket: the broker sees it go after the network's delay
      this.world.schedule(broker.latencyMs, () => broker.closeConnection(remote));
    }
  }

  private timer(fn: () => void, ms: number, every: number | undefined, immediate = false): TimerHandle {
    const t = new SimTimer(this);
    if (!this.alive) return t;
    const delay = Number.isFinite(ms) && ms > 0 ? ms : 0;
    const arm = (d: number) => {
      t.id = this.world.schedule(d, () => {
        // an immediate while the CPU is busy (compute) runs once it is free, after those already waiting
        if (immediate && this.busyUntil > this.world.elapsedMs) return arm(this.busyUntil - this.world.elapsedMs);
        if (every === undefined) this.timers.delete(t);
        else arm(Math.max(1, every));
        fn();
      });
    };
    this.timers.add(t);
    arm(delay);
    return t;
  }

  private clear(handle: TimerHandle | undefined): void {
    if (!(handle instanceof SimTimer) || handle.owner !== this) return;
    this.world.cancel(handle.id);
    this.timers.delete(handle);
  }

  private connect(url: string | DialTarget, options: ConnectOptions = {}): Promise<SimChannelModel | SimRecoveringModel> {
    if (!this.alive) return Promise.reject(new Error(`sim: process ${this.name} was killed`));
    const target = typeof url === 'string' ? parseUrl(url) : url;
    const name = options.clientProperties?.connection_name ?? '';
    // amqplib re-reads the target object on every attempt (connection.ts rotates its address)
    const open = () => this.dial(target, name);
    if (options.recovery === undefined) return open();
    return Promise.resolve(new SimRecoveringModel(open, options.recovery, this.environment));
  }

  /** TCP connect and the AMQP handshake: two round trips; refused after one. */
  private dial(target: DialTarget, name: string): Promise<SimChannelModel> {
    const host = target.hostname ?? 'localhost';
    return new Promise<SimChannelModel>((resolve, reject) => {
      const broker = this.world.brokerAt(host);
      const latency = broker?.latencyMs ?? 1;
      const refused = () => Object.assign(new Error(`connect ECONNREFUSED ${host}:${target.port ?? 5672}`), { code: 'ECONNREFUSED', syscall: 'connect', address: host, port: target.port ?? 5672 });
      if (this.models.size >= SIM_LIMITS.connectionsPerProcess) {
        reject(new Error(`sim: process ${this.name} holds ${SIM_LIMITS.connectionsPerProcess} connections (EMFILE)`));
        return;
      }
      if (this.world.isCut(this.name, host)) {
        // a partition: the SYN gets no answer; the dial times out
        this.timer(() => reject(Object.assign(new Error(`connect ETIMEDOUT ${host}:${target.port ?? 5672}`), { code: 'ETIMEDOUT', syscall: 'connect' })), DIAL_TIMEOUT_MS, undefined);
        return;
      }
      // the process's own timer: a killed process never hears back
      this.timer(
        () => {
          if (!broker) return reject(refused());
          let model: SimChannelModel | undefined;
          const port: ClientConnectionPort = {
            onBlocked: (reason) => model?.onBlocked(reason),
            onUnblocked: () => model?.onUnblocked(),
            onDropped: (err) => model?.onDropped(err),
          };
          const accepted = broker.accept(name, target.username ?? 'guest', target.password ?? 'guest', port, host);
          if (accepted instanceof Error) {
            this.timer(() => reject(accepted), latency, undefined);
            return;
          }
          const m = new SimChannelModel(broker, accepted, (gone) => this.models.delete(gone), this.flow);
          model = m;
          this.models.add(m);
          this.timer(() => (m.closed ? reject(new Error('Socket closed abruptly during opening handshake')) : resolve(m)), 3 * latency, undefined);
        },
        latency,
        undefined,
      );
    });
  }
}

/**
 * Resolves once every promise job queued before (and every job those queue, transitively) has
 * run: a microtask that queues a process tick. Node runs ticks only once the microtask queue is
 * empty, so the tick (and the continuation after it) comes after all of them. The same order as
 * a host macrotask turn (setImmediate, which the world used before) for promise jobs, without the
 * event loop's round trip; no code of a run uses process ticks of its own (the runtime never does).
 */
function drainJobs(): Promise<void> {
  return new Promise((resolve) => queueMicrotask(() => process.nextTick(resolve)));
}

/**
 * A simulated process's network interfaces: loopback only (the real host's, read before, made a
 * run depend on the machine's interfaces, and took milliseconds per chart on a host with many).
 */
function simInterfaces(): ReturnType<NonNullable<Environment['networkInterfaces']>> {
  return { lo: [{ address: '127.0.0.1', netmask: '255.0.0.0', family: 'IPv4', mac: '00:00:00:00:00:00', internal: true, cidr: '127.0.0.1/8' }] };
}

/** Virtual ms a dial across a partition waits before ETIMEDOUT. */
const DIAL_TIMEOUT_MS = 1000;

function parseUrl(url: string): DialTarget {
  const u = new URL(url);
  return {
    hostname: u.hostname.replace(/^\[|\]$/g, ''),
    port: u.port ? Number(u.port) : 5672,
    username: decodeURIComponent(u.username) || 'guest',
    password: decodeURIComponent(u.password) || 'guest',
  };
}

export class SimWorld {
  readonly seed: number;
  /** Events run so far. */
  steps = 0;
  private time = 0;
  private readonly events = new EventQueue();
  private readonly streams = new Map<string, SimRandom>();
  private readonly processes = new Map<string, ProcessState>();
  private readonly brokers = new Map<string, SimBroker>();
  /** Partitions (faults.ts): "process\u0000host" pairs a dial cannot cross. */
  private readonly cuts = new Set<string>();

  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) throw new TypeError(`SimWorld: the seed is an integer, got ${seed}`);
    this.seed = seed;
  }

  /** The wall clock: SIM_EPOCH_MS plus the virtual time passed. */
  nowMs(): number {
    return SIM_EPOCH_MS + this.time;
  }

  /** Virtual ms since the world began. */
  get elapsedMs(): number {
    return this.time;
  }

  /** Events waiting. */
  get pending(): number {
    return this.events.size;
  }

  /** The named random stream ('network', 'faults', 'workload', 'proc:<name>'): the same name gives the same stream. */
  stream(name: string): SimRandom {
    let s = this.streams.get(name);
    if (!s) {
      if (this.streams.size >= SIM_LIMITS.streams) throw new Error(`SimWorld: more than ${SIM_LIMITS.streams} random streams`);
      s = seededStream(this.seed, name);
      this.streams.set(name, s);
    }
    return s;
  }

  /** Runs `fn` after `delayMs` virtual ms (0: after the events already due now). */
  schedule(delayMs: number, fn: () => void): number {
    const delay = Number.isFinite(delayMs) && delayMs > 0 ? delayMs : 0;
    return this.events.push(this.time + delay, fn);
  }

  cancel(id: number): void {
    this.events.cancel(id);
  }

  /** The process `name`, created on first use. */
  process(name: string): SimProcess {
    let p = this.processes.get(name);
    if (!p) {
      if (this.processes.size >= SIM_LIMITS.processes) throw new Error(`SimWorld: more than ${SIM_LIMITS.processes} processes`);
      p = new ProcessState(name, this);
      this.processes.set(name, p);
    }
    return p;
  }

  /** The RabbitMQ node on `host`, created on first use (its options are those of the first call). */
  broker(host: string, options?: SimBrokerOptions): SimBroker {
    let b = this.brokers.get(host);
    if (!b) {
      if (this.brokers.size >= SIM_LIMITS.brokers) throw new Error(`SimWorld: more than ${SIM_LIMITS.brokers} brokers`);
      b = new SimBroker(host, this, options);
      this.brokers.set(host, b);
    }
    return b;
  }

  /**
   * A RabbitMQ cluster of `hosts` (created once): one SimBroker answering on each of them, see
   * SimBrokerOptions.members. world.broker(host) of any member returns it.
   */
  cluster(hosts: readonly string[], options: Omit<SimBrokerOptions, 'members'> = {}): SimBroker {
    if (hosts.length === 0) throw new Error('SimWorld: a cluster needs at least one host');
    const known = this.brokers.get(hosts[0]);
    if (known) return known;
    if (this.brokers.size + hosts.length > SIM_LIMITS.brokers) throw new Error(`SimWorld: more than ${SIM_LIMITS.brokers} brokers`);
    for (const h of hosts) if (this.brokers.has(h)) throw new Error(`SimWorld: ${h} already has a broker`);
    const b = new SimBroker(hosts[0], this, { ...options, members: hosts });
    for (const h of hosts) this.brokers.set(h, b);
    return b;
  }

  /** A partition between process `name` and `host`: new dials time out (existing connections: see faults.ts). */
  cut(name: string, host: string): void {
    this.cuts.add(`${name}\u0000${host}`);
  }

  heal(name: string, host: string): void {
    this.cuts.delete(`${name}\u0000${host}`);
  }

  isCut(name: string, host: string): boolean {
    return this.cuts.size > 0 && this.cuts.has(`${name}\u0000${host}`);
  }

  /** The broker on `host` if there is one (what a dial reaches). */
  brokerAt(host: string): SimBroker | undefined {
    return this.brokers.get(host);
  }

  /**
   * Runs the world: lets the promise jobs run, then the next event, and so on, until no event
   * is left (or the next one is after `untilMs`).
   */
  async run(options: SimRunOptions = {}): Promise<void> {
    await this.runWhile(() => true, options);
  }

  /**
   * Runs the world until `promise` settles and returns its outcome. Throws if the world goes
   * idle first, or after `limitMs` virtual ms (default 10 minutes).
   */
  async settle<T>(promise: Promise<T>, options: { limitMs?: number; maxSteps?: number } = {}): Promise<T> {
    let done = false;
    const watched = promise.finally(() => (done = true));
    watched.catch(() => undefined);
    const limit = this.time + (options.limitMs ?? 600_000);
    await this.runWhile(() => !done, { untilMs: limit, ...(options.maxSteps !== undefined ? { maxSteps: options.maxSteps } : {}) });
    if (!done) {
      throw new Error(this.events.size === 0 ? `SimWorld: idle at ${this.time} virtual ms and the promise has not settled` : `SimWorld: ${options.limitMs ?? 600_000} virtual ms passed and the promise has not settled`);
    }
    return watched;
  }

  /** A promise that resolves after `ms` virtual ms. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.schedule(ms, resolve));
  }

  /**
   * Runs the world in steps of `stepMs` virtual ms until `stop()` holds, checked before each
   * step: the same as `while (!stop()) await run({ untilMs: elapsedMs + stepMs })`, event for
   * event and check for check, without a round of promise jobs for a step in which nothing
   * happens (no event due, nothing ran since the jobs were last drained). `stop` reads the run
   * and must start no promise jobs of its own (it may throw: the run then rejects with it).
   */
  async runSteps(stepMs: number, stop: () => boolean): Promise<void> {
    const step = Number.isFinite(stepMs) && stepMs > 0 ? stepMs : 0;
    let drained = false;
    while (!stop()) {
      const untilMs = this.time + step;
      if (drained) {
        const next = this.events.peek();
        if (!next || next.at > untilMs) {
          this.time = untilMs;
          continue;
        }
      }
      await this.runWhile(() => true, { untilMs });
      drained = true;
    }
  }

  private async runWhile(more: () => boolean, options: SimRunOptions): Promise<void> {
    const maxSteps = options.maxSteps ?? 1_000_000;
    let steps = 0;
    for (;;) {
      await drainJobs();
      if (!more()) return;
      const next = this.events.peek();
      if (!next || (options.untilMs !== undefined && next.at > options.untilMs)) {
        if (options.untilMs !== undefined) this.time = Math.max(this.time, options.untilMs);
        return;
      }
      if (++steps > maxSteps) throw new Error(`SimWorld: more than ${maxSteps} events in one run (maxSteps)`);
      this.events.pop();
      this.time = Math.max(this.time, next.at);
      this.steps++;
      next.fn();
    }
  }
}
