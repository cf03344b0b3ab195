// The chaos scenario's accounting: what each instance said it sent, had confirmed and
// received (its @@SENT / @@CONF / @@RCV lines, timed by the runner's clock), checked
// against the mesh's promise. Pure: no processes, unit tested on its own. Kept minimal and
// self-contained so it can later read the per-instance evidence files instead.

export interface EventId {
  /** Sender instance. */
  f: string;
  /** Sender incarnation (its process start time): a restarted sender starts a new sequence. */
  i: number;
  s: number;
}

/** Paths a fault disturbed: events from instances on `from` hosts to receivers on `to` hosts. */
export interface HealedPath {
  cycle: number;
  kind: string;
  /** When the heal completed (link restored, broker ready, instance READY), ms. */
  healedAt: number;
  pairs: Array<{ from: string[]; to: string[] }>;
}

/** A deletion's gap starts this long before it (events in flight to the broker when the queue went). */
export const QUEUE_GAP_SLACK_MS = 1_000;

/** How much earlier than its send record an event may have been sent (records of a partitioned sender arrive late). */
export const KILL_SLACK_MS = 1_000;

const key = (e: EventId) => `${e.f}\u0000${e.i}\u0000${e.s}`;

export class ChaosLedger {
  private readonly sent = new Map<string, EventId & { at: number; sentAt: number }>();
  private readonly confirmed = new Set<string>();
  private readonly received = new Map<string, Map<string, number>>(); // receiver → event key → count
  private readonly firstAt = new Map<string, Map<string, number>>(); // receiver → event key → first arrival
  private readonly lastSeq = new Map<string, number>(); // receiver + sender incarnation → highest seq so far
  private readonly reorders = new Map<string, number>();
  private readonly kills = new Map<string, number>(); // instance → times killed
  private readonly killTimes = new Map<string, number[]>(); // instance → when it was killed or stopped (ms), when told
  private readonly removed = new Map<string, number>(); // receiver → events a fault removed on purpose (delete-queue)
  private readonly deletions = new Map<string, number[]>(); // receiver → when its queue was deleted (ms)
  private readonly consuming = new Map<string, number[]>(); // receiver → when it had its queues declared and consumed (ms, ascending)
  private readonly killedIncarnations = new Set<string>(); // sender + incarnation
  private confirmations = false;
  /** whenResumed() calls waiting: per pair of the path, the first qualifying arrival so far. */
  private readonly watchers = new Set<{ path: HealedPath; firsts: Array<number | undefined>; done: (ms: number) => void }>();

  constructor(
    /** Instance → the host (node name) it runs on. */
    private readonly hostOf: Record<string, string>,
  ) {}

  /** `sentAt`: when the sender sent it, if known better than `at` (a record of a partitioned sender arrives late; the simulation knows). */
  onSent(f: string, i: number, s: number, at: number, sentAt = at): void {
    this.sent.set(key({ f, i, s }), { f, i, s, at, sentAt: Math.min(at, sentAt) });
  }

  onConfirmed(f: string, i: number, s: number): void {
    this.confirmations = true;
    this.confirmed.add(key({ f, i, s }));
  }

  onReceived(by: string, e: EventId, at: number): void {
    const k = key(e);
    const counts = this.received.get(by) ?? new Map<string, number>();
    this.received.set(by, counts);
    const n = (counts.get(k) ?? 0) + 1;
    counts.set(k, n);
    if (n > 1) return; // a duplicate: not an order question
    const firsts = this.firstAt.get(by) ?? new Map<string, number>();
    this.firstAt.set(by, firsts);
    firsts.set(k, at);
    if (this.watchers.size) this.tellWatchers(by, k, at);
    const stream = `${by}\u0000${e.f}\u0000${e.i}`;
    const last = this.lastSeq.get(stream) ?? 0;
    if (e.s < last) this.reorders.set(by, (this.reorders.get(by) ?? 0) + 1);
    else this.lastSeq.set(stream, e.s);
  }

  /** When (ms) the oldest event of this sender incarnation that no broker confirmed was sent, if any (a SIGKILL now decides its fate). */
  oldestUnconfirmedAt(instance: string, incarnation: number): number | undefined {
    let oldest: number | undefined;
    for (const [k, e] of this.sent) if (e.f === instance && e.i === incarnation && !this.confirmed.has(k) && (oldest === undefined || e.at < oldest)) oldest = e.at;
    return oldest;
  }

  /** `incarnation`: the one that was killed (from its SENT lines), if it sent anything. */
  onKilled(instance: string, incarnation: number | undefined): void {
    this.kills.set(instance, (this.kills.get(instance) ?? 0) + 1);
    if (incarnation !== undefined) this.killedIncarnations.add(`${instance}\u0000${incarnation}`);
  }

  /**
   * The receiver's queue was deleted at `at` (ms, just before the delete): until the chart has
   * declared it again and consumes (onConsuming), what the broker routes to it goes nowhere.
   * Events sent from `at` - QUEUE_GAP_SLACK_MS until that restore and missing there are removed
   * by the fault, not lost; what is missing outside it is lost. Without a restore the gap ends
   * at the deletion (only the events in flight then).
   */
  onQueueDeleted(receiver: string, at: number): void {
    const list = this.deletions.get(receiver) ?? [];
    this.deletions.set(receiver, list);
    if (list.length < 10_000) list.push(at);
  }

  /** When (ms) `instance` was killed or stopped: with these, a loss there is excused only for events it may have handled before (couldHaveDiedWith). */
  onKilledAt(instance: string, at: number): void {
    const times = this.killTimes.get(instance) ?? [];
    this.killTimes.set(instance, times);
    if (times.length < 10_000) times.push(at);
  }

  /**
   * Whether an event sent at `at` that never reached `receiver` may have been handled by an
   * incarnation of it that was killed (its receipt unrecorded): it was killed after the event
   * was sent (less KILL_SLACK_MS: a send record can arrive late). Without kill times (the chaos
   * scenario tells none), any kill counts. An event sent after its last kill waited in its
   * queue for the restart: missing, it is lost.
   */
  private couldHaveDiedWith(receiver: string, at: number): boolean {
    const times = this.killTimes.get(receiver);
    return times === undefined || times.some((t) => t >= at - KILL_SLACK_MS);
  }

  /**
   * At `at` (ms) the receiver had its queues declared and consumed: its READY (a start declares
   * them), or its chart's word that it consumes again after the broker cancelled it (the
   * receiver's RESUBSCRIBED warning). The first such time after a deletion ends its gap.
   */
  onConsuming(receiver: string, at: number): void {
    const list = this.consuming.get(receiver) ?? [];
    this.consuming.set(receiver, list);
    if (list.length < 10_000) list.push(at);
  }

  /** The gaps of `receiver`'s deletions: [deletion - slack, first restore after the deletion (or the deletion itself)). */
  private gapsOf(receiver: string): Array<readonly [number, number]> {
    const restores = [...(this.consuming.get(receiver) ?? [])].sort((x, y) => x - y);
    return (this.deletions.get(receiver) ?? []).map((at) => [at - QUEUE_GAP_SLACK_MS, restores.find((t) => t >= at) ?? at] as const);
  }

  /** Events a fault removed on purpose at a receiver (delete-queue: its queue's depth at deletion): that many missing there are not losses. */
  onRemoved(receiver: string, count: number): void {
    if (count > 0) this.removed.set(receiver, (this.removed.get(receiver) ?? 0) + count);
  }

  /** The figures and per-receiver problems after the drain. */
  result(): ChaosResult {
    const removedLeft = new Map(this.removed);
    let removedByFault = 0;
    const instances = Object.keys(this.hostOf);
    const events = [...this.sent.values()];
    let lost = 0;
    let lostAtKilled = 0;
    const lostAtKilledBy: Record<string, number> = {};
    let neverPublished = 0;
    let delivered = 0;
    let duplicated = 0;
    let duplicatedAtKilled = 0;
    let expected = 0;
    const lostBy: Record<string, number> = {};
    const examples: string[] = [];
    const gaps = new Map(instances.map((r) => [r, this.gapsOf(r)]));
    const gapEnds = new Map<string, number>(); // per deletion: the send time of its last event removed in the gap
    let removedInGap = 0;
    for (const e of events) {
      const k = key(e);
      const receivers = instances.filter((r) => r !== e.f);
      const got = receivers.filter((r) => this.received.get(r)?.has(k));
      if (this.confirmations && !this.confirmed.has(k)) {
        neverPublished++; // not confirmed: not promised
        continue;
      }
      // Without confirmations, a killed sender's event that did not reach a receiver may have
      // died in its outbox unconfirmed (the sender cannot tell us any more): counted apart.
      const senderKilled = !this.confirmations && this.killedIncarnations.has(`${e.f}\u0000${e.i}`);
      for (const r of receivers) {
        if (got.includes(r)) {
          expected++;
          continue;
        }
        if (senderKilled) {
          neverPublished++;
          continue;
        }
        const gap = gaps.get(r)!.find(([from, to]) => e.at >= from && e.at < to);
        if (gap) {
          removedInGap++; // routed to a queue that was not there (deleted, not yet declared again)
          const id = `${r}\u0000${gap[0]}`;
          gapEnds.set(id, Math.max(gapEnds.get(id) ?? 0, e.at - gap[0] - QUEUE_GAP_SLACK_MS));
          continue;
        }
        const budget = removedLeft.get(r) ?? 0;
        if (budget > 0) {
          removedLeft.set(r, budget - 1); // removed by the fault (its record counted them), not lost
          removedByFault++;
          continue;
        }
        expected++;
        lostBy[r] = (lostBy[r] ?? 0) + 1;
        if (this.kills.has(r) && this.couldHaveDiedWith(r, e.sentAt)) {
          lostAtKilled++;
          lostAtKilledBy[r] = (lostAtKilledBy[r] ?? 0) + 1;
        } else lost++;
        if (examples.length < 5) examples.push(`${e.f}#${e.s} (incarnation ${e.i}) never reached ${r}`);
      }
    }
    for (const [r, counts] of this.received) {
      for (const n of counts.values()) {
        delivered++;
        if (n > 1) {
          if (this.kills.has(r)) duplicatedAtKilled += n - 1;
          else duplicated += n - 1;
        }
      }
    }
    const reordered = [...this.reorders.values()].reduce((a, b) => a + b, 0);
    const queueRestoresMs = instances.flatMap((r) => this.gapsOf(r).map(([from, to]) => to - from - QUEUE_GAP_SLACK_MS));
    return {
      sent: events.length,
      confirmed: this.confirmations ? this.confirmed.size : null,
      expected,
      delivered,
      lost,
      lostAtKilled,
      lostAtKilledBy,
      removedByFault,
      removedInGap,
      queueGapsMs: [...gapEnds.values()],
      queueRestoresMs,
      neverPublished,
      duplicated,
      duplicatedAtKilled,
      reordered,
      lostBy,
      examples,
    };
  }

  /**
   * Resolves with the path's resume time (as resumeMs) once every pair has had a delivery of
   * an event sent after the heal, or with undefined after timeoutMs. Woken by the arrivals
   * (onReceived), not by polling. The scenario waits on it before the next fault, so a
   * resume time never includes the next fault's outage.
   */
  whenResumed(path: HealedPath, timeoutMs: number): Promise<number | undefined> {
    const now = this.resumeMs(path);
    if (now !== undefined) return Promise.resolve(now);
    return new Promise((resolve) => {
      const w = {
        path,
        firsts: path.pairs.map(() => undefined as number | undefined),
        done: (ms: number) => {
          clearTimeout(timer);
          this.watchers.delete(w);
          resolve(ms);
        },
      };
      const timer = setTimeout(() => {
        this.watchers.delete(w);
        resolve(undefined);
      }, timeoutMs);
      this.watchers.add(w);
    });
  }

  private tellWatchers(by: string, k: string, at: number): void {
    const e = this.sent.get(k);
    if (!e || e.f === by) return;
    for (const w of [...this.watchers]) {
      if (e.at < w.path.healedAt) continue;
      w.path.pairs.forEach((pair, i) => {
        if (w.firsts[i] === undefined && pair.to.includes(this.hostOf[by]) && pair.from.includes(this.hostOf[e.f])) w.firsts[i] = at;
      });
      if (w.firsts.every((x) => x !== undefined)) w.done(Math.max(...(w.firsts as number[])) - w.path.healedAt);
    }
  }

  /**
   * Resume time of a healed path: from the heal to the first delivery across every pair of an
   * event sent after the heal; undefined when some pair never resumed.
   */
  resumeMs(p: HealedPath): number | undefined {
    let worst = 0;
    for (const pair of p.pairs) {
      let first = Infinity;
      for (const [r, firsts] of this.firstAt) {
        if (!pair.to.includes(this.hostOf[r])) continue;
        for (const [k, at] of firsts) {
          const e = this.sent.get(k);
          if (!e || e.at < p.healedAt || !pair.from.includes(this.hostOf[e.f]) || e.f === r) continue;
          if (at < first) first = at;
        }
      }
      if (first === Infinity) return undefined;
      worst = Math.max(worst, first - p.healedAt);
    }
    return worst;
  }
}

export interface ChaosResult {
  sent: number;
  /** null: the runtime gives no per-event confirmation (today's transmit returns nothing). */
  confirmed: number | null;
  /** (event, receiver) pairs that should arrive. */
  expected: number;
  delivered: number;
  /** Expected arrivals missing at receivers that were never killed. */
  lost: number;
  /** Expected arrivals missing at receivers that were killed and restarted. */
  lostAtKilled: number;
  /** lostAtKilled by receiver. */
  lostAtKilledBy: Record<string, number>;
  /** Missing arrivals a fault removed on purpose (delete-queue's depth at deletion, per receiver): not lost. */
  removedByFault: number;
  /** Missing arrivals sent while the receiver's queue was deleted and not yet declared again (delete-queue): not lost. */
  removedInGap: number;
  /** Per queue deletion that removed events: ms from the deletion to the send time of the last event it removed. */
  queueGapsMs: number[];
  /** Per queue deletion: ms from the deletion to the chart's queues declared and consumed again (0: never, as far as the run heard). */
  queueRestoresMs: number[];
  /** Unconfirmed (event, receiver) pairs: not confirmed, or of a killed sender without confirmations (it may have died in the outbox). */
  neverPublished: number;
  duplicated: number;
  duplicatedAtKilled: number;
  reordered: number;
  lostBy: Record<string, number>;
  examples: string[];
}

export function percentile(values: number[], p: number): number | undefined {
  if (!values.length) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}
