// The fault search: the seeded fault schedule (runtime/sim/faults.ts), the checker over a
// run's records (ops/sim/check.ts) and the search in worker threads (ops/sim/search.ts).
// CI-sized: a few dozen seeds with every fault kind, and one replay compared by hash.
import { describe, expect, it } from 'vitest';
import { relayProgram } from '../../examples/relay/program.ts';
import { FAULT_KINDS, parseFaultKinds, planFaults, type Fault } from '../../runtime/sim/faults.ts';
import { seededStream } from '../../runtime/sim/random.ts';
import { simulate, type SimulationResult, type SimRecord } from '../../runtime/sim/simulate.ts';
import type { SimFaultLog } from '../../runtime/sim/result.ts';
import { SIM_EPOCH_MS } from '../../runtime/sim/world.ts';
import { checkSimRun } from '../../ops/sim/check.ts';
import { parseSeedRange, replayCommand, searchSeeds } from '../../ops/sim/search.ts';
import { simulate as simulateWithEvidence } from '../../ops/sim/simulate.ts';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// The fault lists seeds 3, 4, 130 and 1164 had when their findings were made (before the
// queue-limit kind shifted every seed's draws): replayed as explicit schedules with the same seed.
const BEFORE = JSON.parse(readFileSync(new URL('./fixtures/sim-plans-before-queue-limit.json', import.meta.url), 'utf8')) as Record<string, Fault[]>;

const plan = (seed: number, kinds: Parameters<typeof planFaults>[1]['kinds'] = 'all', swarm = true) =>
  planFaults(seededStream(seed, 'faults'), { kinds, swarm, count: 20, spanMs: 20_000, charts: ['a', 'b', 'c'], hosts: 3 });

describe('the fault schedule', () => {
  it('is the seed\'s: one seed one plan, and seeds differ; every fault heals within the span', () => {
    expect(plan(3)).toEqual(plan(3));
    expect(plan(3)).not.toEqual(plan(4));
    for (let s = 0; s < 50; s++) {
      const p = plan(s);
      expect(p.faults).toHaveLength(20);
      for (const f of p.faults) {
        expect(p.kinds).toContain(f.kind);
        expect(f.at + f.durationMs).toBeLessThanOrEqual(20_000);
      }
      expect(p.lastHealMs).toBe(Math.max(...p.faults.map((f) => f.at + f.durationMs)));
    }
  });

  it('swarm testing: each seed turns on a subset of the kinds, and over seeds every kind comes up alone-ish and together', () => {
    const sizes = new Set<number>();
    const seen = new Set<string>();
    for (let s = 0; s < 200; s++) {
      const p = plan(s);
      sizes.add(p.kinds.length);
      for (const k of p.kinds) seen.add(k);
    }
    expect([...seen].sort()).toEqual([...FAULT_KINDS].sort());
    expect(Math.min(...sizes)).toBeLessThanOrEqual(3);
    expect(Math.max(...sizes)).toBeGreaterThanOrEqual(FAULT_KINDS.length - 2);
    // without swarm every allowed kind is on
    expect(plan(1, ['kill', 'latency'], false).kinds).toEqual(['kill', 'latency']);
  });

  it('parses --faults: all, none, a list; an unknown kind is an error naming the kinds', () => {
    expect(parseFaultKinds('all')).toBe('all');
    expect(parseFaultKinds('none')).toEqual([]);
    expect(parseFaultKinds('kill,partition-one-way')).toEqual(['kill', 'partition-one-way']);
    expect(() => parseFaultKinds('kill,nuke')).toThrow(/unknown fault kind "nuke".*partition-one-way/);
    expect(parseSeedRange('0..999')).toEqual({ from: 0, to: 999 });
    expect(parseSeedRange('7')).toEqual({ from: 7, to: 7 });
    expect(() => parseSeedRange('9..3')).toThrow(/A <= B/);
    expect(() => parseSeedRange('a..b')).toThrow(/A\.\.B/);
    expect(replayCommand(12, { faults: 'all', faultsPerRun: 10 })).toBe('npx mirosnet sim --seed 12 --faults all --faults-per-run 10 --out sim-12');
  });
});

// a run's records by hand: mesh-send and mesh-receive as the monitor gets them
const event = (sender: string, seq: number, signal = 'E', iid = `${sender}-1`) => ({ sender, host: 'h', inc: 0, iid, seq, lamport: null, signal });
const rec = (kind: 'mesh-send' | 'mesh-receive', by: string, e: ReturnType<typeof event>, at: number, byIid = `${by}-1`): SimRecord => ({
  network: 'trace', sender: by, host: 'h', inc: 0, iid: byIid, seq: null, lamport: null, ts: SIM_EPOCH_MS + at, kind, signal: e.signal, from: null, to: null, text: '', event: e, rx: SIM_EPOCH_MS + at,
});
const run = (records: SimRecord[], extra: Partial<SimulationResult> = {}): SimulationResult =>
  ({ program: 't', seed: 0, node: '', hash: '', pass: true, problems: [], virtualMs: 0, records, lines: [], reports: {}, delivered: {}, stats: {}, warnings: {}, hosts: ['h0', 'h1'], chartHosts: { a: 0, b: 1 }, ...extra }) as SimulationResult;

describe('the checker over a run\'s records', () => {
  it('passes a clean run; finds a lost event, one handled twice by one incarnation, and one out of its sender\'s order', () => {
    const clean = [rec('mesh-send', 'a', event('a', 1), 1), rec('mesh-send', 'a', event('a', 2), 2), rec('mesh-receive', 'b', event('a', 1), 3), rec('mesh-receive', 'b', event('a', 2), 4)];
    expect(checkSimRun(run(clean)).problems).toEqual([]);
    expect(checkSimRun(run(clean.slice(0, 3))).problems.join('\n')).toMatch(/1 event deliveries lost \(b: 1\)/);
    expect(checkSimRun(run([...clean, rec('mesh-receive', 'b', event('a', 2), 5)])).problems.join('\n')).toMatch(/handled twice by one incarnation/);
    // a new incarnation of b getting it again (a redelivery after a restart) is no duplicate of the first
    expect(checkSimRun(run([...clean, rec('mesh-receive', 'b', event('a', 2), 5, 'b-2')])).duplicatedInIncarnation).toBe(0);
    expect(checkSimRun(run([clean[0]!, clean[1]!, clean[3]!, clean[2]!])).problems.join('\n')).toMatch(/out of their sender's order/);
    // the program's own problems count too
    expect(checkSimRun(run(clean, { problems: ['invariant broken'] })).ok).toBe(false);
  });

  // A missing event at a SIGKILLed receiver was excused whole (its receipt record may have died with
  // it), so an event the chart never handled (a redelivered copy acked while its original still waited
  // in the chart, issue 21.2) could not show. The excuse is now bounded by the receipt records that
  // died: those the incarnation had made by its kill (networkStats()) less those the monitor got.
  it('excuses at a killed receiver no more events than the receipt records that died with it', () => {
    const records = [rec('mesh-send', 'a', event('a', 1), 1), rec('mesh-send', 'a', event('a', 2), 2)];
    const killedWith = (receiptRecords: number) =>
      checkSimRun(run(records, { faults: { plan: { kinds: ['kill'], faults: [], lastHealMs: 0 }, records: [{ kind: 'kill', chart: 'b', at: 0, startedAt: 10, durationMs: 1 }], workloadAt: 0, killed: [{ chart: 'b', iid: 'b-1', receiptRecords }], stopped: [], restarts: 0 } as unknown as SimFaultLog }));
    expect(killedWith(2).problems).toEqual([]);
    expect(killedWith(1).problems).toEqual(['1 events never handled at b: 2 missing there since its kills, and only 1 receipt records died with them']);
  });

  it('counts events a deleted queue held, or that the broker routed nowhere while it was gone, as removed by the fault, not lost', () => {
    const records = [rec('mesh-send', 'a', event('a', 1), 1), rec('mesh-send', 'a', event('a', 2), 20), rec('mesh-send', 'a', event('a', 3), 40), rec('mesh-receive', 'b', event('a', 3), 50)];
    const check = (deleted: { queue: string; removed: number; routedNowhere?: number }) =>
      checkSimRun(run(records, { faults: { plan: { kinds: ['delete-queue'], faults: [], lastHealMs: 0 }, records: [{ kind: 'delete-queue', chart: 'b', at: 0, startedAt: 10, durationMs: 1, ...deleted }], workloadAt: 0, killed: [], stopped: [], restarts: 0 } }));
    const r = check({ queue: 'miros.mesh.b', removed: 1, routedNowhere: 1 });
    expect(r.problems).toEqual([]);
    expect(r.ledger.removedByFault).toBe(2);
    // what the fault did not count is lost: an outbox's event published after the queue came back is not the fault's
    expect(check({ queue: 'miros.mesh.b', removed: 1 }).ledger.lost).toBe(1);
    // a snoop queue's deletion removes no mesh events
    expect(check({ queue: 'miros.trace.b', removed: 1, routedNowhere: 1 }).ledger.lost).toBe(2);
  });
});

describe('simulated runs under faults', () => {
  const relay = relayProgram({ pings: 10 });
  it('one seed with faults replays to the same hash; the faults ran, and healed', async () => {
    const a = await simulate(relay, { seed: 5, faults: { kinds: 'all', count: 10, spanMs: 5000 } });
    const b = await simulate(relay, { seed: 5, faults: { kinds: 'all', count: 10, spanMs: 5000 } });
    expect(b.hash).toBe(a.hash);
    expect(a.faults!.records.length).toBe(10);
    for (const f of a.faults!.records) expect(f.healedAt).toBeGreaterThanOrEqual(f.startedAt);
    const c = await simulate(relay, { seed: 6, faults: { kinds: 'all', count: 10, spanMs: 5000 } });
    expect(c.hash).not.toBe(a.hash);
  });

  it('the search: seeds in worker threads with every fault kind, each checked; the worker\'s hash is the replay\'s', async () => {
    const seeds = Number(process.env.MIROS_SIM_CI_SEEDS ?? 24);
    const r = await searchSeeds({ from: 0, to: seeds - 1, faults: 'all', faultsPerRun: 10, spanMs: 5000, workers: 2 });
    expect(r.runs).toBe(seeds);
    const kinds = new Set(r.outcomes.flatMap((o) => o.kinds));
    expect([...kinds].sort()).toEqual([...FAULT_KINDS].sort());
    for (const f of r.failures) expect(f.replay).toContain(`--seed ${f.seed} `);
    console.log(`sim search: ${r.runs} runs, ${r.failed} failed, ${r.runsPerMinute} runs/min, virtual/real ${r.virtualToRealRatio}; failures: ${r.failures.map((f) => `${f.seed}: ${f.problems[0]}`).join(' | ')}`);
    expect(r.failures.map((f) => f.seed)).toEqual([]);
    const replay = await simulate(relayProgram(), { seed: 3, faults: { kinds: 'all', count: 10, spanMs: 5000 } });
    expect(replay.hash).toBe(r.outcomes.find((o) => o.seed === 3)!.hash);
  }, 120_000);
});

describe('findings of the search (defects first: expected to fail until fixed)', () => {
  // Seeds 130 and 181 of `mirosnet sim --seeds 0..199 --faults all --faults-per-run 10 --span-ms 5000`:
  // one chart's final stop({ leave: true }) never completed. The run's own supervisor did it: the
  // final stop ended a restart still starting, and the restart's failure handler killed the
  // process (as systemd would) while its stop was under way, so the stop's bounded waits never
  // fired (a killed process's timers are gone). simulate() no longer retries once it finishes.
  it('seed 130: every chart stops within the bound after broker crashes and a stop/restart', async () => {
    const r = await simulate(relayProgram(), { seed: 130, faults: { kinds: 'all', count: 10, spanMs: 5000, schedule: BEFORE['130']! } });
    expect(r.problems.filter((p) => /stopping/.test(p))).toEqual([]);
  }, 60_000);

  // Seed 1164 of `mirosnet sim --seeds 1000..1999 --faults all` (20 faults, 20 s span): its queue
  // deletions hit queues whose node had crashed, which an operator cannot do (rabbitmqctl fails),
  // and the checker counted only events *sent* while a queue was gone, not those an outbox held
  // and published then: 3 of pinger's events were counted lost. The fault now skips a queue whose
  // node is down, and the broker counts what was routed nowhere (sim-delete-queue.test.ts).
  // Seed 3 kills ponger and auditor: their evidence files end without a closing record. The
  // evidence now has faults.jsonl (the chaos scenario's schedule lines), so the log check knows
  // why, and summary.json carries the run's delivery check.
  it('seed 3 replayed with its evidence: the log check passes, faults.jsonl explains the kills, summary.json has the delivery check', async () => {
    const out = mkdtempSync(join(tmpdir(), 'sim-evidence-'));
    try {
      const r = await simulateWithEvidence(relayProgram(), { seed: 3, out: join(out, 'run'), faults: { kinds: 'all', count: 20, spanMs: 20_000, schedule: BEFORE['3']! } });
      expect(r.logCheck).toEqual({ ok: true, problems: [] });
      const faults = readFileSync(join(out, 'run', 'faults.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { kind: string; target: string[] });
      expect(faults.filter((f) => f.kind === 'kill').map((f) => f.target[0]).sort()).toEqual(['auditor', 'ponger']);
      const summary = JSON.parse(readFileSync(join(out, 'run', 'summary.json'), 'utf8')) as { pass: boolean; checks: Array<{ name: string; pass: boolean }> };
      expect(summary.pass).toBe(true);
      expect(summary.checks.map((c) => c.name)).toContain("no confirmed event lost, none handled twice by one incarnation, each sender's order kept");
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 60_000);

  // Seed 4: a stop fault hits ponger while a restart of it is still starting; the start fails (it
  // was stopped), the supervisor restarted it as after a crash, and the stop's heal restarted it
  // again: two live pongers, one never stopped (its evidence file has no closing record).
  it('seed 4: a stop during a restart leaves one ponger, stopped cleanly at the end (log check passes)', async () => {
    const out = mkdtempSync(join(tmpdir(), 'sim-seed4-'));
    try {
      const r = await simulateWithEvidence(relayProgram(), { seed: 4, out: join(out, 'run'), faults: { kinds: 'all', count: 20, spanMs: 20_000, schedule: BEFORE['4']! } });
      expect(r.logCheck).toEqual({ ok: true, problems: [] });
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 60_000);

  it('seed 1164: no confirmed event is lost', async () => {
    const r = await simulate(relayProgram(), { seed: 1164, faults: { kinds: 'all', count: 20, spanMs: 20_000, schedule: BEFORE['1164']! } });
    expect(checkSimRun(r).problems.filter((p) => /lost/.test(p))).toEqual([]);
  }, 60_000);
});
