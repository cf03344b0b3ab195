// Injecting a fault of the catalogue by name, and the faults in force: every record that has
// an undo is kept in <dir>/faults-in-force.json until a record of its undo's kind covers it
// (heal with no target covers every heal; heal n2 covers partition n1 n2). `mirosnet fault
// list` prints them.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ClusterError } from '../cluster/errors.ts';
import { readClusterFile } from '../cluster/cluster-file.ts';
import { defaultDir } from '../cluster/options.ts';
import { CATALOGUE, type Catalogue, checkArgs, faultSpec } from './catalogue.ts';
import type { FaultOptions, FaultRecord } from './record.ts';

const FILE = 'faults-in-force.json';
/** A bound on the records kept: the oldest beyond it are shed (and counted in the file). */
const MAX_IN_FORCE = 1000;

interface InForceFile {
  faults: FaultRecord[];
  /** Records shed over the bound. */
  shed: number;
}

const pathOf = (dir: string | undefined) => join(resolve(dir ?? defaultDir()), FILE);

/** The file's records, without those of an earlier cluster in the same dir (injected before this one was made). */
function read(dir: string | undefined): InForceFile {
  const file = pathOf(dir);
  if (!existsSync(file)) return { faults: [], shed: 0 };
  let state: InForceFile;
  try {
    state = JSON.parse(readFileSync(file, 'utf8')) as InForceFile;
  } catch (err) {
    throw new ClusterError(`${file} is corrupt: ${(err as Error).message}`, 'delete it: the faults it listed are then no longer listed (they may still be in force)');
  }
  const created = Date.parse(readClusterFile(resolve(dir ?? defaultDir()))?.createdAt ?? '');
  if (Number.isFinite(created)) state.faults = state.faults.filter((f) => Date.parse(f.at) >= created);
  return state;
}

const covers = (heal: FaultRecord, undo: { kind: string; target: string[] }) =>
  heal.kind === undo.kind && (heal.target.length === 0 || heal.target.every((t) => undo.target.includes(t)) || undo.target.every((t) => heal.target.includes(t)));

/** Adds a record (if it has an undo) and drops the ones it undoes. */
export function remember(dir: string | undefined, rec: FaultRecord): void {
  const state = read(dir);
  const before = state.faults.length;
  state.faults = state.faults.filter((f) => !f.undo || !covers(rec, f.undo));
  if (rec.undo) state.faults.push(rec);
  if (state.faults.length === before && !rec.undo && !existsSync(pathOf(dir))) return;
  const over = state.faults.length - MAX_IN_FORCE;
  if (over > 0) {
    state.faults.splice(0, over);
    state.shed += over;
  }
  writeFileSync(pathOf(dir), `${JSON.stringify(state, null, 2)}\n`);
}

/** The faults in force in the cluster at `dir` (oldest first), and how many were shed over the bound. */
export function faultsInForce(dir?: string): InForceFile {
  return read(dir);
}

/**
 * Injects a fault of the catalogue: its arguments checked (a ClusterError naming the problem),
 * its row's inject (chaos: its chaos inject, when it has one), the record remembered while in force.
 */
export async function injectFault(kind: string, args: readonly (string | number)[], opts: FaultOptions = {}, how: { chaos?: boolean; catalogue?: Catalogue } = {}): Promise<FaultRecord> {
  const catalogue = how.catalogue ?? CATALOGUE;
  const strings = args.map(String);
  const problem = checkArgs(kind, strings, catalogue);
  if (problem) throw new ClusterError(`fault ${problem}`);
  const spec = faultSpec(kind, catalogue)!;
  const inject = (how.chaos && spec.chaos?.inject) || spec.inject;
  const rec = await inject(strings, opts);
  remember(opts.dir, rec);
  return rec;
}

/** Undoes a record (its undo, through the catalogue); undefined when it has none. */
export async function undoFault(rec: FaultRecord, opts: FaultOptions = {}, catalogue: Catalogue = CATALOGUE): Promise<FaultRecord | undefined> {
  if (!rec.undo) return undefined;
  return injectFault(rec.undo.kind, rec.undo.target, opts, { catalogue });
}

/** What `fault heal --all` did: the undo records, and the faults whose undo failed (with why). */
export interface HealAllResult {
  healed: FaultRecord[];
  failed: Array<{ fault: FaultRecord; error: string }>;
}

/**
 * Undoes every fault in force (`fault heal --all`), newest first: every cut and toxic with one
 * `heal` of everything, then each other fault by its undo (resume-broker, restart-broker,
 * clear-alarm, restart-instance). A failed undo is reported and the rest go on; its record
 * stays in force.
 */
export async function healAll(opts: FaultOptions = {}, catalogue: Catalogue = CATALOGUE): Promise<HealAllResult> {
  const result: HealAllResult = { healed: [], failed: [] };
  const pending = [...read(opts.dir).faults].reverse();
  const fail = (faults: FaultRecord[], err: unknown) => {
    const error = (err as { format?: () => string }).format?.() ?? (err as Error)?.message ?? String(err);
    for (const fault of faults) result.failed.push({ fault, error });
  };
  const cuts = pending.filter((f) => f.undo?.kind === 'heal');
  if (cuts.length) {
    try {
      result.healed.push(await injectFault('heal', [], opts, { catalogue }));
    } catch (err) {
      fail(cuts, err);
    }
  }
  const stillInForce = (f: FaultRecord) => read(opts.dir).faults.some((x) => x.at === f.at && x.kind === f.kind && x.target.join() === f.target.join());
  for (const f of pending) {
    if (!f.undo || f.undo.kind === 'heal' || !stillInForce(f)) continue; // an earlier undo covered it
    try {
      result.healed.push((await undoFault(f, opts, catalogue))!);
    } catch (err) {
      fail([f], err);
    }
  }
  return result;
}
