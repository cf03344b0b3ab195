// chaos: every instance transmits CHAOS events continuously (unique ids) while a seeded
// schedule of fault cycles runs: each fault injected, held 1–5 s, healed. After the last
// heal the senders go quiet, the mesh drains, and the ledger checks what arrived where.
// faults.jsonl in the run dir: one line per cycle (what, when, resume time, expected losses).
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UnsupportedError } from '../../cluster/errors.ts';
import { CATALOGUE, supported } from '../../faults/catalogue.ts';
import { injectFault } from '../../faults/in-force.ts';
import type { FaultRecord } from '../../faults/record.ts';
import { formatColumns } from '../../util/columns.ts';
import { sleep, until } from '../../util/wait.ts';
import { ChaosLedger, type ChaosResult, type HealedPath, percentile } from '../chaos-ledger.ts';
import { type ChaosKind, type KindsChoice, type PlannedFault, chaosSchedule, resolveKinds } from '../chaos-schedule.ts';
import { isTag } from '../../instances/protocol.ts';
import { RESUBSCRIBED } from '../../../runtime/net/receiver.ts';
import type { Instance, Run, Scenario } from '../runner.ts';
import { check, type CheckResult } from '../summary.ts';

export interface ChaosOptions {
  seed?: number;
  cycles?: number;
  /** The kinds, or 'all': every kind of the fault catalogue with a chaos use that the backend supports (default: the catalogue's default set). */
  kinds?: KindsChoice;
  /** Instances per host (default 1). */
  instances?: number;
  /** Interval between one instance's events, ms (default 50: 20 events/s each). */
  intervalMs?: number;
  /** The resume p99 must be at most this, ms (default 5000); 0: reported, not checked. */
  resumeP99MaxMs?: number;
  /** Where it runs, when known up front: the kinds it cannot do are refused before a cluster is brought up. */
  backend?: 'local' | 'netns' | 'docker';
}

/** The kinds a chaos run uses by default (the catalogue's default set: the recorded seeds'). */
export const DEFAULT_CHAOS_KINDS: readonly ChaosKind[] = resolveKinds(undefined, 'netns');

/** How long a cycle waits for its healed path to carry traffic again before the next fault. */
const RESUME_WAIT_MS = 60_000;


/** The incarnation of a chaos instance's last SENT line, if any. */
function incarnationOf(inst: Instance): number | undefined {
  const last = inst.got('SENT').at(-1);
  return last && 'i' in last ? last.i : undefined;
}

/** The kinds of `kinds` a backend cannot do (given its live capabilities, or its kind alone), with why. */
function unsupported(kinds: readonly ChaosKind[], backend: 'local' | 'netns' | 'docker', can?: Parameters<typeof supported>[2]): { kind: ChaosKind; reason: string }[] {
  return kinds.flatMap((kind) => {
    const s = supported(CATALOGUE[kind], backend, can);
    return s === true ? [] : [{ kind, reason: s.reason }];
  });
}

interface CycleRecord extends PlannedFault {
  injectedAt?: string;
  healedAt?: string;
  inject?: string;
  heal?: string;
  error?: string;
  resumeMs?: number | null;
  expectedLoss: string;
  /** Instances that crashed (not scheduled) and were started again after this cycle. */
  restartedAfterCrash?: string[];
}

export function chaos(opts: ChaosOptions = {}): Scenario {
  const seed = opts.seed ?? 1;
  const cycles = opts.cycles ?? 100;
  let kinds: ChaosKind[] = resolveKinds(opts.kinds, opts.backend ?? 'netns');
  const perHost = opts.instances ?? 1;
  const intervalMs = opts.intervalMs ?? 50;
  const p99Max = opts.resumeP99MaxMs ?? 5000;
  const refuse = (backend: 'local' | 'netns' | 'docker', can?: Parameters<typeof supported>[2]) => {
    const no = unsupported(kinds, backend, can);
    if (!no.length) return;
    const others = kinds.filter((k) => !no.some((n) => n.kind === k));
    const reasons = [...new Set(no.map((n) => n.reason))].join('; ');
    throw new UnsupportedError(
      can
        ? `chaos: ${no.map((n) => n.kind).join(', ')} on the ${backend} backend: ${reasons}`
        : `chaos: ${no.map((n) => n.kind).join(', ')} need${no.length === 1 ? 's' : ''} a network namespace per host (netns or docker); ${reasons}`,
      `use --backend netns (root), or leave ${no.length === 1 ? 'it' : 'them'} out: --faults ${others.join(',') || 'all'}`,
    );
  };
  if (opts.backend) {
    if (opts.kinds === 'all') kinds = resolveKinds('all', opts.backend);
    refuse(opts.backend);
  }
  let ledger: ChaosLedger;
  let finished = false;
  const records: CycleRecord[] = [];
  const healed: HealedPath[] = [];
  let result: ChaosResult | undefined;
  let resumes: number[] = [];
  let notResumed: number[] = [];
  let drainSeconds = 0;

  const hostName = (run: Run, broker: number) => run.cluster.nodes[broker].name;

  /** The resume times of each fault kind: which kinds make the p99. */
  function resumeByKind(): Record<string, { resumed: number; notResumed: number; p50Ms: number | null; p99Ms: number | null; maxMs: number | null }> {
    const out: ReturnType<typeof resumeByKind> = {};
    for (const kind of new Set(records.map((r) => r.kind))) {
      const of = records.filter((r) => r.kind === kind && r.resumeMs !== undefined);
      const ms = of.flatMap((r) => (typeof r.resumeMs === 'number' ? [r.resumeMs] : []));
      out[kind] = { resumed: ms.length, notResumed: of.length - ms.length, p50Ms: percentile(ms, 50) ?? null, p99Ms: percentile(ms, 99) ?? null, maxMs: ms.length ? Math.max(...ms) : null };
    }
    return out;
  }

  /** One cycle: the fault injected through the catalogue, held, undone; the paths it interrupted. */
  async function cycle(run: Run, f: PlannedFault, rec: CycleRecord): Promise<HealedPath['pairs']> {
    const use = CATALOGUE[f.kind].chaos;
    if (!use) throw new Error(`${f.kind} has no chaos use`);
    const o = { dir: run.dir, instances: run };
    const hosts = run.cluster.nodes.slice(0, run.nodes).map((n) => n.name);
    const [a, b] = f.target;
    const others = (h: string) => hosts.filter((x) => x !== h);
    const args = [...f.target, ...Object.values(f.numbers ?? {})];
    let injected: FaultRecord | undefined;
    if (use.target === 'instance') {
      const inst = run.get(a);
      // the ledger hears of the kill and the restart sends "go" (onInstanceKilled/Restarted in go())
      const killedAt = Date.now();
      const incarnation = incarnationOf(inst);
      if (inst.exitCode === undefined) {
        if (f.kind === 'delete-queue') ledger.onQueueDeleted(a, killedAt);
        injected = await injectFault(f.kind, args, o, { chaos: true });
        rec.inject = injected.detail;
        if (injected.removed) ledger.onRemoved(a, injected.removed); // delete-queue: removed by the fault, not lost
      } else rec.inject = `instance ${a} was not running (it crashed: counted), so only the restart`;
      // the band of this fault (log check) starts with the oldest event the kill left unconfirmed:
      // the kill decided its fate (a killed sender's unconfirmed events are not promised)
      const unconfirmed = incarnation === undefined ? undefined : ledger.oldestUnconfirmedAt(a, incarnation);
      rec.injectedAt = new Date(Math.min(killedAt, unconfirmed ?? killedAt)).toISOString();
    } else {
      injected = await injectFault(f.kind, args, o, { chaos: true });
      rec.inject = injected.detail;
      rec.injectedAt = new Date().toISOString();
    }
    await sleep(f.holdMs);
    const heal = CATALOGUE[f.kind].heal;
    const undo = injected?.undo ?? (heal ? { kind: heal, target: f.target } : undefined);
    if (undo) rec.heal = (await injectFault(undo.kind, undo.target, o)).detail;
    switch (use.paths) {
      case 'pair':
        return [{ from: [a], to: [b] }, { from: [b], to: [a] }];
      case 'host':
        return [{ from: [a], to: others(a) }, { from: others(a), to: [a] }];
      case 'broker':
        return [{ from: hosts, to: [a] }];
      case 'instance': {
        const host = hostName(run, run.get(a).spec.broker);
        return [{ from: hosts, to: [host] }, { from: [host], to: others(host) }];
      }
    }
    return []; // unreachable: FaultPaths has the four cases
  }

  return {
    name: 'chaos',
    timeoutMs: cycles * (30_000 + RESUME_WAIT_MS) + 180_000,
    instances: ({ nodes, run }) =>
      Array.from({ length: nodes * perHost }, (_, k) => {
        const broker = k % nodes;
        const name = `chaos${broker + 1}${perHost > 1 ? String.fromCharCode(97 + Math.floor(k / nodes)) : ''}-${run}`;
        return { name, program: 'chaos', broker, config: { tx: `chaos.${run}.${k}`, rx: `chaos.${run}.*`, params: { intervalMs } } };
      }),

    go: async (run) => {
      const can = run.handle.backend.capabilities(run.handle.options);
      if (opts.kinds === 'all') kinds = resolveKinds('all', run.handle.backend.kind, can);
      refuse(run.handle.backend.kind, can);
      const hostOf = Object.fromEntries(run.instances.map((i) => [i.name, hostName(run, i.spec.broker)]));
      ledger = new ChaosLedger(hostOf);
      let quiet = false;
      // every kill of an instance (the schedule's, or `mirosnet fault kill-instance` meanwhile)
      run.onInstanceKilled = (inst) => ledger.onKilled(inst.name, incarnationOf(inst));
      run.onInstanceRestarted = (inst) => quiet || inst.send({ cmd: 'go' });
      run.onControl = (inst, line) => {
        const now = Date.now();
        if (isTag(line, 'SENT')) {
          if ('i' in line.data) ledger.onSent(inst.name, line.data.i, line.data.s, now);
        } else if (isTag(line, 'RCV')) ledger.onReceived(inst.name, { f: line.data.f, i: line.data.i, s: line.data.s }, now);
        else if (isTag(line, 'CONF')) ledger.onConfirmed(inst.name, line.data.i, line.data.s);
        // its queues declared and consumed: at a start, or after the broker cancelled them (delete-queue's gap ends)
        else if (isTag(line, 'READY') || (isTag(line, 'WARN') && line.data.message.includes(RESUBSCRIBED))) ledger.onConsuming(inst.name, now);
      };
      const hosts = run.cluster.nodes.slice(0, run.nodes).map((n) => n.name);
      const plan = chaosSchedule({ seed, cycles, kinds, hosts, instances: run.instances.map((i) => i.name) });
      const jsonl = join(run.logDir, 'faults.jsonl');
      writeFileSync(jsonl, '');
      run.log(`chaos: seed ${seed}, ${cycles} cycles of ${kinds.join(', ')}; ${run.instances.length} instances every ${intervalMs} ms`);
      run.send({ cmd: 'go' });
      await sleep(3000); // traffic flowing before the first fault
      for (const f of plan) {
        const rec: CycleRecord = { ...f, expectedLoss: CATALOGUE[f.kind].chaos?.expectedLoss ?? 'not said' };
        records.push(rec);
        try {
          const pairs = await cycle(run, f, rec);
          const at = Date.now();
          rec.healedAt = new Date(at).toISOString();
          const path: HealedPath = { cycle: f.cycle, kind: f.kind, healedAt: at, pairs };
          healed.push(path);
          // the next fault only once this path carries traffic again: else its outage would count as this resume
          if ((await ledger.whenResumed(path, RESUME_WAIT_MS)) === undefined) run.log(`cycle ${f.cycle}: the healed path did not resume within ${RESUME_WAIT_MS / 1000} s; the next fault anyway`);
        } catch (err) {
          if (err instanceof UnsupportedError) throw err;
          rec.error = (err as Error).message;
          run.log(`cycle ${f.cycle} ${f.kind} ${f.target.join(' ')}: ${rec.error}; healing everything`);
          await injectFault('heal', [], { dir: run.dir }).catch(() => undefined); // local: no cuts to heal
        }
        // an instance that crashed (not a scheduled kill: counted) is started again, so traffic goes on
        for (const i of run.instances.filter((x) => x.exitCode !== undefined)) {
          try {
            await run.restartInstance(i.name);
            (rec.restartedAfterCrash ??= []).push(i.name);
            run.log(`${i.name} had crashed: started again`);
          } catch (err) {
            run.log(`${i.name} had crashed and did not start again: ${(err as Error).message}`);
          }
        }
        appendFileSync(jsonl, `${JSON.stringify(rec)}\n`);
        run.log(`cycle ${f.cycle}/${cycles}: ${f.kind} ${f.target.join(' ')} held ${(f.holdMs / 1000).toFixed(1)} s${rec.error ? ` FAILED: ${rec.error}` : ''}`);
        await sleep(1000); // traffic across the healed path before the next fault
      }
      // drain: quiet, then wait until nothing new arrives for 8 s (at most 120 s)
      await sleep(5000);
      quiet = true;
      run.send({ cmd: 'quiet' });
      const t0 = Date.now();
      let last = -1;
      let stableSince = Date.now();
      await until(() => {
        const n = run.instances.reduce((a, i) => a + i.controls.length, 0);
        if (n !== last) {
          last = n;
          stableSince = Date.now();
        }
        return Date.now() - stableSince > 8000;
      }, 120_000, 500);
      drainSeconds = (Date.now() - t0) / 1000;
      result = ledger.result();
      resumes = [];
      notResumed = [];
      for (const p of healed) {
        const ms = ledger.resumeMs(p);
        const rec = records.find((r) => r.cycle === p.cycle)!;
        rec.resumeMs = ms ?? null;
        if (ms === undefined) notResumed.push(p.cycle);
        else resumes.push(ms);
      }
      writeFileSync(jsonl, records.map((r) => JSON.stringify(r)).join('\n') + '\n'); // with the resume times
      finished = true;
    },

    done: () => finished,

    checks: (run): CheckResult[] => {
      const r = result!;
      const failed = records.filter((x) => x.error);
      const crashes = run.instances.filter((i) => i.crashes > 0).map((i) => `${i.name} crashed ${i.crashes} time(s)`);
      const overflow = run.instances.flatMap((i) => (i.stderr.some((l) => /overflow/i.test(l)) ? [`${i.name}: ${i.stderr.filter((l) => /overflow/i.test(l))[0]}`] : []));
      return [
        check(`${records.length} fault cycles injected, held and healed (seed ${seed})`, [
          ...(records.length < cycles ? [`only ${records.length} of ${cycles} cycles ran`] : []),
          ...failed.map((x) => `cycle ${x.cycle} ${x.kind} ${x.target.join(' ')}: ${x.error}`),
        ]),
        check(`every promised event reached every receiver that was never killed (${r.expected} arrivals expected)`, r.lost ? [`${r.lost} lost`, ...r.examples] : []),
        check('exactly once at every receiver that was never killed', r.duplicated ? [`${r.duplicated} duplicates`] : []),
        check('in per-sender order', r.reordered ? [`${r.reordered} events arrived after a later one of the same sender`] : []),
        check('killed-and-restarted receivers lose nothing (their duplicates are counted)', r.lostAtKilled ? [`${r.lostAtKilled} lost at killed receivers (duplicates there: ${r.duplicatedAtKilled})`] : []),
        check('0 outbox overflows', overflow),
        check('no instance crashed except the scheduled kills', crashes),
        check('traffic resumed across every healed path', notResumed.length ? [`not resumed after cycle(s) ${notResumed.join(', ')}`] : []),
        ...(p99Max > 0
          ? [check(`resume p99 ≤ ${p99Max / 1000} s`, (percentile(resumes, 99) ?? 0) > p99Max ? [`p99 ${((percentile(resumes, 99) ?? 0) / 1000).toFixed(2)} s (p50 ${((percentile(resumes, 50) ?? 0) / 1000).toFixed(2)} s)`] : [])]
          : []),
      ];
    },

    metrics: () => {
      const r = result;
      const byKind: Record<string, number> = {};
      for (const x of records) byKind[x.kind] = (byKind[x.kind] ?? 0) + 1;
      return {
        chaos: {
          seed,
          cycles: records.length,
          kinds: [...kinds],
          sent: r?.sent ?? 0,
          confirmed: r?.confirmed ?? null,
          confirmedNote: r?.confirmed === null ? "no instance reported a confirmed transmit() (no CONF lines): every sent event is expected, except a killed sender's undelivered tail" : undefined,
          expected: r?.expected ?? 0,
          delivered: r?.delivered ?? 0,
          lost: r?.lost ?? 0,
          lostAtKilled: r?.lostAtKilled ?? 0,
          removedByFault: r?.removedByFault ?? 0,
          removedInGap: r?.removedInGap ?? 0,
          queueGapMaxMs: r?.queueGapsMs.length ? Math.max(...r.queueGapsMs) : null,
          queueRestoreMaxMs: r?.queueRestoresMs.length ? Math.max(...r.queueRestoresMs) : null,
          unconfirmed: r?.neverPublished ?? 0,
          duplicated: r?.duplicated ?? 0,
          duplicatedAtKilled: r?.duplicatedAtKilled ?? 0,
          reordered: r?.reordered ?? 0,
          lostBy: r?.lostBy ?? {},
          resumeP50Ms: percentile(resumes, 50) ?? null,
          resumeP99Ms: percentile(resumes, 99) ?? null,
          resumeMaxMs: resumes.length ? Math.max(...resumes) : null,
          notResumed: notResumed.length,
          drainSeconds,
          faultsByKind: byKind,
          resumeByKind: resumeByKind(),
        },
      };
    },

    report: () => {
      const r = result;
      if (!r) return 'chaos: no result (the run ended before the drain)';
      const p50 = percentile(resumes, 50);
      const p99 = percentile(resumes, 99);
      const fmt = (ms: number | undefined) => (ms === undefined ? '-' : `${(ms / 1000).toFixed(2)} s`);
      const byKind = new Map<string, number>();
      for (const x of records) byKind.set(x.kind, (byKind.get(x.kind) ?? 0) + 1);
      return formatColumns([
        ['SEED', 'CYCLES', 'SENT', 'CONFIRMED', 'DELIVERED', 'LOST', 'LOST@KILLED', 'UNCONFIRMED', 'DUP', 'DUP@KILLED', 'REORDERED', 'RESUME P50', 'RESUME P99'],
        [String(seed), String(records.length), String(r.sent), r.confirmed === null ? 'n/a' : String(r.confirmed), String(r.delivered), String(r.lost), String(r.lostAtKilled), String(r.neverPublished), String(r.duplicated), String(r.duplicatedAtKilled), String(r.reordered), fmt(p50), fmt(p99)],
      ]) +
        `\nfaults: ${[...byKind].map(([k, n]) => `${k} ${n}`).join(', ')}` +
        `\nresume by kind: ${Object.entries(resumeByKind())
          .map(([k, v]) => `${k} p50 ${fmt(v.p50Ms ?? undefined)} p99 ${fmt(v.p99Ms ?? undefined)} (${v.resumed} resumed${v.notResumed ? `, ${v.notResumed} not` : ''})`)
          .join('; ')}`;
    },
  };
}
