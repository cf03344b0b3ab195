// The chaos scenario's pure parts: the seeded schedule and the ledger that checks arrivals.
import { describe, expect, it } from 'vitest';
import { ChaosLedger, percentile } from '../../ops/scenario/chaos-ledger.ts';
import { chaosSchedule, parseKinds, resolveKinds } from '../../ops/scenario/chaos-schedule.ts';

const DEFAULT_KINDS = resolveKinds(undefined, 'netns');

const base = { cycles: 120, kinds: DEFAULT_KINDS, hosts: ['n1', 'n2', 'n3'], instances: ['a', 'b', 'c'] };

describe('chaos schedule', () => {
  it('the same seed gives the same schedule, another seed another one', () => {
    expect(chaosSchedule({ ...base, seed: 7 })).toEqual(chaosSchedule({ ...base, seed: 7 }));
    expect(chaosSchedule({ ...base, seed: 8 })).not.toEqual(chaosSchedule({ ...base, seed: 7 }));
  });

  it('holds 1–5 s, partitions two different hosts, targets what the kind acts on, uses every kind', () => {
    const plan = chaosSchedule({ ...base, seed: 1 });
    expect(plan).toHaveLength(120);
    expect(plan.map((f) => f.cycle)).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
    for (const f of plan) {
      expect(f.holdMs).toBeGreaterThanOrEqual(1000);
      expect(f.holdMs).toBeLessThanOrEqual(5000);
      if (f.kind === 'partition') {
        expect(f.target).toHaveLength(2);
        expect(f.target[0]).not.toBe(f.target[1]);
      } else expect(f.target).toHaveLength(1);
      expect(f.kind === 'kill-instance' ? base.instances : base.hosts).toContain(f.target[0]);
      if (f.kind === 'latency') expect(f.numbers?.ms).toBeGreaterThan(0);
    }
    expect(new Set(plan.map((f) => f.kind))).toEqual(new Set(DEFAULT_KINDS));
  });

  it('parseKinds refuses an unknown kind, naming the known ones', () => {
    expect(parseKinds('partition, kill-broker')).toEqual(['partition', 'kill-broker']);
    expect(() => parseKinds('partition,flood')).toThrow(/flood.*the kinds are partition, isolate/);
  });
});

describe('chaos ledger', () => {
  const hostOf = { a: 'n1', b: 'n2', c: 'n3' };

  it('counts lost, duplicated and reordered arrivals per receiver; killed receivers apart', () => {
    const l = new ChaosLedger(hostOf);
    for (let s = 1; s <= 3; s++) l.onSent('a', 1, s, s);
    // b: 1, 3, 2 (a reorder), 2 again (a duplicate); c: only 1 and 2 (3 lost)
    for (const s of [1, 3, 2, 2]) l.onReceived('b', { f: 'a', i: 1, s }, 10 + s);
    for (const s of [1, 2]) l.onReceived('c', { f: 'a', i: 1, s }, 10 + s);
    let r = l.result();
    expect(r).toMatchObject({ sent: 3, confirmed: null, expected: 6, delivered: 5, lost: 1, lostAtKilled: 0, duplicated: 1, reordered: 1, lostBy: { c: 1 } });
    expect(r.examples[0]).toMatch(/a#3 .* never reached c/);
    l.onKilled('c', undefined);
    r = l.result();
    expect(r).toMatchObject({ lost: 0, lostAtKilled: 1 });
  });

  it("what delete-queue removed at a receiver (its record's depth) is counted as removed, not lost; only that many", () => {
    const l = new ChaosLedger(hostOf);
    for (let s = 1; s <= 4; s++) l.onSent('a', 1, s, s);
    for (let s = 1; s <= 4; s++) l.onReceived('b', { f: 'a', i: 1, s }, 10 + s);
    l.onReceived('c', { f: 'a', i: 1, s: 1 }, 11); // 3 missing at c
    l.onRemoved('c', 2);
    expect(l.result()).toMatchObject({ lost: 1, removedByFault: 2, lostBy: { c: 1 } });
  });

  // after a queue is deleted, the broker routes the receiver's events nowhere until its chart has
  // declared the queue again: those are removed by the fault (counted apart), not lost
  it('delete-queue: events sent between the deletion (less the slack) and the restore are removed, not lost; before and after, a loss is one', () => {
    const l = new ChaosLedger(hostOf);
    for (let s = 1; s <= 12; s++) l.onSent('a', 1, s, 1000 * s);
    l.onConsuming('c', 500); // its start: before the deletion, ends no gap
    l.onQueueDeleted('c', 2500); // 2 (sent at 2000, in flight: the slack) to 6 go nowhere
    l.onConsuming('b', 4000); // another receiver's restore ends nothing at c
    l.onConsuming('c', 6500); // c consumes again: 7 on arrive
    l.onConsuming('c', 9000);
    for (const s of [1, 7, 8, 10, 11, 12]) l.onReceived('c', { f: 'a', i: 1, s }, 1000 * s + 10);
    for (let s = 1; s <= 12; s++) l.onReceived('b', { f: 'a', i: 1, s }, 1000 * s + 10);
    // 9 (sent after the restore) is a real loss, however close to the deletion
    const r = l.result();
    expect(r).toMatchObject({ lost: 1, removedInGap: 5, queueGapsMs: [3500], queueRestoresMs: [4000], lostBy: { c: 1 } });
    expect(r.examples).toEqual(['a#9 (incarnation 1) never reached c']);
  });

  it('delete-queue: without a restore the gap is only the slack before the deletion; a slow restore widens it as far as it took', () => {
    const l = new ChaosLedger(hostOf);
    for (let s = 1; s <= 4; s++) l.onSent('a', 1, s, 1000 * s);
    l.onQueueDeleted('c', 2500);
    for (let s = 1; s <= 4; s++) l.onReceived('b', { f: 'a', i: 1, s }, 1000 * s + 10);
    l.onReceived('c', { f: 'a', i: 1, s: 1 }, 1010);
    expect(l.result()).toMatchObject({ lost: 2, removedInGap: 1, queueRestoresMs: [0] }); // 3 and 4: no restore heard
    l.onConsuming('c', 60_000); // a chart that took nearly a minute to come back
    expect(l.result()).toMatchObject({ lost: 0, removedInGap: 3, queueRestoresMs: [57_500] });
  });

  it("a killed sender's undelivered events are not promised without confirmations; with them only confirmed ones are", () => {
    const l = new ChaosLedger(hostOf);
    l.onSent('a', 5, 1, 1);
    l.onSent('a', 5, 2, 2);
    l.onReceived('b', { f: 'a', i: 5, s: 1 }, 3);
    l.onKilled('a', 5);
    expect(l.result()).toMatchObject({ lost: 0, neverPublished: 3, expected: 1 });
    const m = new ChaosLedger(hostOf);
    m.onSent('a', 5, 1, 1);
    m.onSent('a', 5, 2, 2);
    m.onConfirmed('a', 5, 1);
    m.onReceived('b', { f: 'a', i: 5, s: 1 }, 3);
    expect(m.result()).toMatchObject({ confirmed: 1, lost: 1, neverPublished: 1, expected: 2 });
  });

  it('resume time: from the heal to the first arrival across each pair of an event sent after it; undefined if one never resumed', () => {
    const l = new ChaosLedger(hostOf);
    l.onSent('a', 1, 1, 900); // before the heal: does not count
    l.onReceived('b', { f: 'a', i: 1, s: 1 }, 1100);
    l.onSent('a', 1, 2, 1050);
    l.onReceived('b', { f: 'a', i: 1, s: 2 }, 1400);
    l.onSent('b', 1, 1, 1200);
    l.onReceived('a', { f: 'b', i: 1, s: 1 }, 1250);
    const healed = { cycle: 1, kind: 'partition', healedAt: 1000, pairs: [{ from: ['n1'], to: ['n2'] }, { from: ['n2'], to: ['n1'] }] };
    expect(l.resumeMs(healed)).toBe(400);
    expect(l.resumeMs({ ...healed, pairs: [{ from: ['n3'], to: ['n1'] }] })).toBeUndefined();
  });

  it('whenResumed resolves on the arrival that completes the last pair (as resumeMs), or undefined after its timeout', async () => {
    const l = new ChaosLedger(hostOf);
    const healed = { cycle: 1, kind: 'partition', healedAt: 1000, pairs: [{ from: ['n1'], to: ['n2'] }, { from: ['n2'], to: ['n1'] }] };
    const waiting = l.whenResumed(healed, 5000);
    let settled: number | undefined | 'pending' = 'pending';
    void waiting.then((ms) => (settled = ms));
    l.onSent('a', 1, 1, 900); // sent before the heal: does not count
    l.onReceived('b', { f: 'a', i: 1, s: 1 }, 1100);
    l.onSent('a', 1, 2, 1050);
    l.onReceived('b', { f: 'a', i: 1, s: 2 }, 1400); // n1 → n2 resumed
    await Promise.resolve();
    expect(settled).toBe('pending'); // n2 → n1 not yet
    l.onSent('b', 1, 1, 1200);
    l.onReceived('a', { f: 'b', i: 1, s: 1 }, 1250);
    expect(await waiting).toBe(400);
    expect(await waiting).toBe(l.resumeMs(healed));
    expect(await l.whenResumed({ ...healed, pairs: [{ from: ['n3'], to: ['n1'] }] }, 20)).toBeUndefined();
  });

  it("oldestUnconfirmedAt: the send time of a sender incarnation's oldest event no broker confirmed", () => {
    const l = new ChaosLedger(hostOf);
    l.onSent('a', 5, 1, 100);
    l.onSent('a', 5, 2, 150);
    l.onSent('a', 5, 3, 200);
    l.onSent('a', 6, 1, 50);
    l.onConfirmed('a', 5, 1);
    l.onConfirmed('a', 5, 3);
    expect(l.oldestUnconfirmedAt('a', 5)).toBe(150);
    l.onConfirmed('a', 5, 2);
    expect(l.oldestUnconfirmedAt('a', 5)).toBeUndefined();
  });

  it('percentile', () => {
    expect(percentile([], 50)).toBeUndefined();
    expect(percentile([5, 1, 3, 2, 4], 50)).toBe(3);
    expect(percentile(Array.from({ length: 100 }, (_, i) => i + 1), 99)).toBe(99);
  });
});
