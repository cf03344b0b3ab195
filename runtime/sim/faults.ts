// Faults in a simulated run, chosen by a seeded schedule (the world's 'faults' stream): what
// the chaos scenario does to real testbeds, plus what only a simulator can (one-way
// partitions, a paused node, a clock step). With swarm testing each seed also picks which
// kinds are on, so that rare combinations come up (Groce et al., "Swarm testing", 2012).
//
// A fault starts at `at` and heals `durationMs` later. Every fault heals by the end of the
// schedule's span, so a run can check liveness after the last heal.
import type { SimChannelModel } from './amqp.ts';
import type { SimRandom } from './random.ts';
import type { SimWorld } from './world.ts';

export const FAULT_KINDS = [
  'partition', // a chart's process and one broker cannot reach each other
  'partition-one-way', // frames one way are lost until the connection times out
  'latency', // a chart's connections slow down
  'broker-crash', // a node dies (what was not written is lost) and restarts (durable state kept)
  'broker-pause', // a node stops handling frames (SIGSTOP) and resumes
  'kill', // SIGKILL of a chart's process; restarted later, keeping its queues
  'stop', // graceful stop of a chart (its queues stay); restarted later
  'drop-connections', // the operator closes a node's client connections (320)
  'delete-queue', // the operator deletes a chart's queue (its consumer is cancelled)
  'memory-alarm', // a node blocks publishers until the alarm clears
  'clock-step', // a chart's wall clock jumps
  'queue-limit', // an operator policy caps a chart's queue (max-length, reject-publish): publishes over it are nacked
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface Fault {
  /** Virtual ms after the workload started. */
  at: number;
  kind: FaultKind;
  /** The chart it hits (process faults, partitions, latency, delete-queue). */
  chart?: string;
  /** The broker it hits (index into the program's hosts). */
  host?: number;
  /** Until the heal, virtual ms. */
  durationMs: number;
  /** latency: extra ms each way; clock-step: the step in ms (may be negative); partition-one-way: 1 = client→broker lost, 0 = broker→client; queue-limit: the cap (ready messages). */
  amount?: number;
  /** A state trigger's fault: what fired it ("pinger entered waiting"). */
  trigger?: string;
}

export interface FaultPlanOptions {
  /** The kinds that may occur ('all': every kind). */
  kinds: readonly FaultKind[] | 'all';
  /** Swarm testing: the seed turns each allowed kind on or off (at least one stays on). Default true. */
  swarm?: boolean;
  /** Faults in the run. */
  count: number;
  /** Virtual ms within which faults start and heal. */
  spanMs: number;
  charts: readonly string[];
  hosts: number;
  /**
   * Brokers that broker faults (crash, pause, drop-connections, memory alarm) leave alone:
   * simulate() spares the monitor's (host 0), whose records the check reads; its charts still
   * get partitions, latency, kills and the rest. Default none.
   */
  spareHosts?: readonly number[];
}

export interface FaultPlan {
  /** The kinds this seed turned on. */
  kinds: FaultKind[];
  faults: Fault[];
  /** Virtual ms (after the workload started) by which every fault has healed. */
  lastHealMs: number;
}

/** Parses "all" or a comma-separated list of kinds; a clear error names the kinds there are. */
export function parseFaultKinds(text: string): FaultKind[] | 'all' {
  if (text === 'all') return 'all';
  if (text === 'none' || text === '') return [];
  const kinds = text.split(',').map((k) => k.trim());
  for (const k of kinds) if (!(FAULT_KINDS as readonly string[]).includes(k)) throw new Error(`unknown fault kind ${JSON.stringify(k)} (kinds: all, none, ${FAULT_KINDS.join(', ')})`);
  return kinds as FaultKind[];
}

/** The faults of one seed, from its 'faults' stream only. */
export function planFaults(random: SimRandom, options: FaultPlanOptions): FaultPlan {
  const allowed = options.kinds === 'all' ? [...FAULT_KINDS] : [...options.kinds];
  let kinds = allowed;
  if ((options.swarm ?? true) && allowed.length > 1) {
    kinds = allowed.filter(() => random.int(2) === 1);
    if (kinds.length === 0) kinds = [allowed[random.int(allowed.length)]!];
  }
  const faults: Fault[] = [];
  if (kinds.length === 0 || options.count <= 0) return { kinds, faults, lastHealMs: 0 };
  const span = Math.max(1000, options.spanMs);
  for (let i = 0; i < options.count; i++) {
    const kind = kinds[random.int(kinds.length)]!;
    const durationMs = 200 + random.int(Math.max(1, Math.min(5000, span / 4)));
    const at = random.int(Math.max(1, span - durationMs));
    const fault: Fault = { at, kind, durationMs };
    switch (kind) {
      case 'partition':
      case 'latency':
      case 'kill':
      case 'stop':
      case 'delete-queue':
      case 'queue-limit':
        fault.chart = options.charts[random.int(options.charts.length)]!;
        if (kind === 'partition') fault.host = random.int(options.hosts);
        if (kind === 'latency') fault.amount = 5 + random.int(500);
        if (kind === 'queue-limit') fault.amount = random.int(3); // 0: every publish to it is nacked
        break;
      case 'partition-one-way':
        fault.chart = options.charts[random.int(options.charts.length)]!;
        fault.host = random.int(options.hosts);
        fault.amount = random.int(2);
        break;
      case 'clock-step':
        fault.chart = options.charts[random.int(options.charts.length)]!;
        // an NTP step: within the receivers' clock-skew allowance (a larger step drops events as replays, counted by reason)
        fault.amount = (random.int(2) === 1 ? 1 : -1) * (100 + random.int(MAX_CLOCK_STEP_MS));
        break;
      default: {
        const spare = new Set(options.spareHosts ?? []);
        const open = Array.from({ length: options.hosts }, (_, i) => i).filter((i) => !spare.has(i));
        fault.host = open.length > 0 ? open[random.int(open.length)]! : random.int(options.hosts);
      }
    }
    faults.push(fault);
  }
  faults.sort((a, b) => a.at - b.at);
  return { kinds, faults, lastHealMs: Math.max(...faults.map((f) => f.at + f.durationMs)) };
}

/** Largest clock step, virtual ms. */
export const MAX_CLOCK_STEP_MS = 5000;

/**
 * A clock step that hits a chart while its process is down is a host brought back with its
 * clock far behind (a restored VM, a Raspberry Pi without an RTC: the chaos scenario's
 * clock-step restarts an instance 30 min behind): the planned step, made negative, times this
 * (up to 30 min). The restart then numbers its events from that clock. Never forward by that
 * much: a receiver whose clock runs ahead of every sender by more than the replay bound
 * refuses what it has not heard before, by design (replay-guard.ts).
 */
export const CLOCK_STEP_WHILE_DOWN_FACTOR = 360;

/** What a fault reaches in a run (simulate.ts gives it). */
export interface FaultTargets {
  world: SimWorld;
  hosts: readonly string[];
  /** The process of chart `name` now (its name changes with each restart). */
  processOf(chart: string): string;
  /** SIGKILL of the chart's process. */
  kill(chart: string): void;
  /** The program's own done() and invariant() cannot hold any more (a chart restarted, a queue was deleted): why. */
  waive(why: string): void;
  /** Graceful stop (queues kept). */
  stop(chart: string): Promise<void>;
  /** A new process for the chart, started at its initial state. */
  restart(chart: string, attempt?: number): void;
  /** Steps the wall clock of the chart's host by `ms`: its process now and every restart after (the clock is the host's, not the process's). */
  stepClock(chart: string, ms: number): void;
}

/** What happened, for the checker and the evidence. */
export interface FaultRecord extends Fault {
  /** Virtual ms since the world began. */
  startedAt: number;
  healedAt?: number;
  /** delete-queue: the queue and the messages it held. */
  queue?: string;
  removed?: number;
  /** delete-queue: distinct messages its bindings matched while it was gone (until a chart bound it again): confirmed, and gone. */
  routedNowhere?: number;
  /** Why a fault did nothing (no such queue, the chart was down). */
  skipped?: string;
  /** clock-step of a chart that was down: the step made (CLOCK_STEP_WHILE_DOWN_FACTOR). */
  steppedMs?: number;
}

/**
 * A deleted queue's publishes routed nowhere count as removed by the fault for this long after the
 * deletion when no chart ever binds the queue again (a resubscribe takes far less); all of
 * them once one does (however long a partition or a crash kept it away).
 */
export const QUEUE_GAP_MAX_MS = 3_000;

/** Virtual ms after which a connection across a partition is found dead (AMQP heartbeat, roughly). */
export const HEARTBEAT_TIMEOUT_MS = 1500;

/** Applies faults to a run as they come (a seeded plan's, at their times, or a state trigger's, at once). */
export interface FaultInjector {
  /** What happened, in the order the faults started. */
  readonly records: FaultRecord[];
  /** Applies `fault` now (its `at` is not read); it heals `durationMs` later. */
  inject(fault: Fault): void;
}

/** Schedules `plan` on the world, its faults `at` virtual ms from now; returns the records they fill as they run. */
export function scheduleFaults(plan: FaultPlan, targets: FaultTargets, injector: FaultInjector = faultInjector(targets)): FaultRecord[] {
  for (const fault of plan.faults) targets.world.schedule(fault.at, () => injector.inject(fault));
  return injector.records;
}

/** The injector of a run's faults: one per run, shared by its plan and its triggers (which charts are down is shared). */
export function faultInjector(targets: FaultTargets): FaultInjector {
  const { world } = targets;
  const records: FaultRecord[] = [];
  const down = new Set<string>(); // charts killed or stopped, not yet restarted
  const inject = (fault: Fault): void => {
    const record: FaultRecord = { ...fault, startedAt: world.elapsedMs };
    records.push(record);
    const heal = (fn: () => void) =>
      world.schedule(fault.durationMs, () => {
        fn();
        record.healedAt = world.elapsedMs;
      });
    const skip = (why: string) => {
      record.skipped = why;
      record.healedAt = world.elapsedMs;
    };
    const host = fault.host !== undefined ? targets.hosts[fault.host]! : undefined;
    const broker = host !== undefined ? world.brokerAt(host) : undefined;
    /** The chart's queues on every broker (an operator's delete-queue and queue-limit pick one). */
    const queuesOf = (chart: string) => {
      const brokers = [...new Set(targets.hosts.map((h) => world.brokerAt(h)).filter((b) => b !== undefined))];
      return brokers.flatMap((b) => b.queueNames().filter((q) => q.includes(chart) && !q.startsWith('amq.')).map((q) => ({ b, q })));
    };
    const models = (chart: string, toHost?: string): SimChannelModel[] =>
      world.process(targets.processOf(chart)).connections().filter((m) => toHost === undefined || m.broker.members.includes(toHost));
    switch (fault.kind) {
      case 'partition':
      case 'partition-one-way': {
        const chart = fault.chart!;
        if (down.has(chart)) return skip('chart down');
        const proc = targets.processOf(chart);
        world.cut(proc, host!);
        const cut = fault.kind === 'partition' ? { toBroker: true, toClient: true } : fault.amount === 1 ? { toBroker: true, toClient: false } : { toBroker: false, toClient: true };
        const hit = models(chart, host);
        // a direction already cut stays cut: a connection that lost frames one way never delivers a
        // later frame that way (TCP keeps a connection's bytes in order); the heartbeat closes it
        for (const m of hit) m.remote.wire.cut = { toBroker: m.remote.wire.cut.toBroker || cut.toBroker, toClient: m.remote.wire.cut.toClient || cut.toClient };
        // the heartbeat finds the connection dead on both sides
        world.schedule(Math.min(HEARTBEAT_TIMEOUT_MS, fault.durationMs), () => {
          for (const m of hit) {
            if (m.closed) continue;
            m.broker.closeConnection(m.remote);
            m.remote.wire.up = false;
            m.onDropped(Object.assign(new Error('Heartbeat timeout'), { code: 'ETIMEDOUT' }));
          }
        });
        heal(() => {
          world.heal(proc, host!);
          for (const m of hit) m.remote.wire.cut = { toBroker: false, toClient: false };
        });
        return;
      }
      case 'latency': {
        const chart = fault.chart!;
        const hit = models(chart);
        for (const m of hit) m.remote.wire.extraLatencyMs += fault.amount!;
        heal(() => {
          for (const m of hit) m.remote.wire.extraLatencyMs -= fault.amount!;
        });
        return;
      }
      case 'broker-crash': {
        if (!broker?.isUp) return skip('broker down');
        broker.crash();
        heal(() => broker.restart());
        return;
      }
      case 'broker-pause': {
        if (!broker) return skip('no broker');
        const until = world.nowMs() + fault.durationMs;
        for (const w of broker.wires()) w.heldUntil = Math.max(w.heldUntil, until);
        heal(() => undefined);
        return;
      }
      case 'kill':
      case 'stop': {
        const chart = fault.chart!;
        if (down.has(chart)) return skip('chart down');
        down.add(chart);
        if (fault.kind === 'kill') targets.kill(chart);
        else void targets.stop(chart).catch(() => undefined);
        heal(() => {
          down.delete(chart);
          targets.restart(chart);
        });
        return;
      }
      case 'drop-connections': {
        if (!broker?.isUp) return skip('broker down');
        broker.dropConnections();
        heal(() => undefined);
        return;
      }
      case 'delete-queue': {
        const named = queuesOf(fault.chart!);
        if (named.length === 0) return skip('no queue');
        // an operator cannot delete a queue whose node is down (rabbitmqctl fails)
        const candidates = named.filter(({ b, q }) => b.queueIsUp(q));
        if (candidates.length === 0) return skip('its node is down');
        const { b, q } = candidates[world.stream('faults:targets').int(candidates.length)]!;
        record.queue = q;
        // distinct messages (a resend of the same bytes is one event) the bindings matched while the queue was gone:
        // all of them count as removed once a chart binds it again; if none ever does (a chart left deaf after the
        // cancel), only those of the first QUEUE_GAP_MAX_MS: what follows is lost
        const nowhere = new Set<string>();
        let early = 0;
        let rebound = false;
        record.removed =
          b.deleteQueueByOperator(q, {
            routedNowhere: (content) => {
              if (nowhere.size >= 100_000) return;
              const text = content.toString('latin1');
              if (!nowhere.has(text) && world.elapsedMs - record.startedAt <= QUEUE_GAP_MAX_MS) early++;
              nowhere.add(text);
              record.routedNowhere = rebound ? nowhere.size : early;
            },
            rebound: () => {
              rebound = true;
              if (nowhere.size > 0) record.routedNowhere = nowhere.size;
            },
          }) ?? 0;
        targets.waive(`queue ${q} deleted (events routed to it meanwhile are gone)`);
        heal(() => undefined);
        return;
      }
      case 'queue-limit': {
        // the publishers' brokers nack what reaches the full queue: each nack must resend that message alone (issue 30.1)
        const named = queuesOf(fault.chart!);
        if (named.length === 0) return skip('no queue');
        const { b, q } = named[world.stream('faults:targets').int(named.length)]!;
        record.queue = q;
        b.capQueue(q, fault.amount ?? 0);
        heal(() => b.capQueue(q, undefined));
        return;
      }
      case 'memory-alarm': {
        if (!broker) return skip('no broker');
        broker.setAlarm(true);
        heal(() => broker.setAlarm(false));
        return;
      }
      case 'clock-step': {
        const chart = fault.chart!;
        if (down.has(chart)) targets.stepClock(chart, (record.steppedMs = -Math.abs(fault.amount!) * CLOCK_STEP_WHILE_DOWN_FACTOR));
        else targets.stepClock(chart, fault.amount!);
        heal(() => undefined);
        return;
      }
    }
  };
  return { records, inject };
}
