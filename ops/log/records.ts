// Reading a run's logs: distributed.jsonl (what the observer received), the per-instance
// evidence files (<name>.jsonl, what each chart did, written locally) and faults.jsonl
// (what was injected when). Every record keeps where it came from, so a report can name
// the file and line.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { EvidenceLine, EvidenceStats, EvidenceStop, SnoopRecord } from '../../runtime/index.ts';
import type { FaultsLine } from './fault-bands.ts';

export const DISTRIBUTED_JSONL = 'distributed.jsonl';
export const FAULTS_JSONL = 'faults.jsonl';

export interface Origin {
  file: string;
  /** 1-based line number in that file. */
  line: number;
}

/** A record of distributed.jsonl (rx: arrival at the observer) or of an evidence file (incarnation, n). */
export type LoadedRecord = SnoopRecord & { rx?: number; n?: number; origin: Origin };

export interface EvidenceFile {
  path: string;
  /** Every line in file order (start, records, stop), with its origin; lines that are not JSON in `unreadable`. */
  lines: Array<EvidenceLine & { origin: Origin }>;
  unreadable: Origin[];
}

export interface RunLogs {
  /** distributed.jsonl files (usually one). */
  distributed: Array<{ path: string; records: LoadedRecord[]; unreadable: Origin[] }>;
  evidence: EvidenceFile[];
  /** Injected faults and declared losses (faults.jsonl). */
  faults: FaultsLine[];
}

function readLines(path: string): string[] {
  const text = readFileSync(path, 'utf8');
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

function parseJsonl(path: string): { values: Array<{ value: Record<string, unknown>; origin: Origin }>; unreadable: Origin[] } {
  const values: Array<{ value: Record<string, unknown>; origin: Origin }> = [];
  const unreadable: Origin[] = [];
  readLines(path).forEach((text, i) => {
    const origin = { file: path, line: i + 1 };
    if (text.trim() === '') return;
    try {
      const value = JSON.parse(text);
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) values.push({ value, origin });
      else unreadable.push(origin);
    } catch {
      unreadable.push(origin);
    }
  });
  return { values, unreadable };
}

const isEvidenceLine = (v: Record<string, unknown>) => Number.isSafeInteger(v.incarnation) && Number.isSafeInteger(v.n);

/** Reads one file of any of the three kinds and adds it to `logs`. */
export function addFile(logs: RunLogs, path: string): void {
  if (basename(path) === FAULTS_JSONL) {
    logs.faults.push(...(parseJsonl(path).values.map((v) => v.value) as unknown as FaultsLine[]));
    return;
  }
  const { values, unreadable } = parseJsonl(path);
  const first = values[0]?.value;
  if (basename(path) !== DISTRIBUTED_JSONL && (first === undefined ? unreadable.length > 0 || /\.jsonl$/.test(path) : isEvidenceLine(first))) {
    logs.evidence.push({ path, lines: values.map(({ value, origin }) => ({ ...(value as unknown as EvidenceLine), origin })), unreadable });
    return;
  }
  logs.distributed.push({ path, records: values.map(({ value, origin }) => ({ ...(value as unknown as SnoopRecord), origin })), unreadable });
}

/** An input that is no run: a path that does not exist, or a directory with no .jsonl files (the CLI: a bad value, exit 2). */
export class RunInputError extends Error {
  override readonly name = 'RunInputError';
  constructor(
    message: string,
    /** What to do instead. */
    readonly hint: string,
  ) {
    super(message);
  }
}

const RUN_HINT = 'give a run directory (a scenario writes logs/<scenario>-<time>-<id>/; the newest: ls -td logs/*/ | head -1) or its .jsonl files';

/** The .jsonl files of a run dir (merged.jsonl, an output, left out) or the files given. */
export function loadRun(inputs: string[]): RunLogs {
  const logs: RunLogs = { distributed: [], evidence: [], faults: [] };
  for (const input of inputs) {
    if (!existsSync(input)) throw new RunInputError(`${input}: no such file or directory`, RUN_HINT);
    if (statSync(input).isDirectory()) {
      const files = readdirSync(input).filter((f) => f.endsWith('.jsonl') && f !== 'merged.jsonl').sort();
      if (files.length === 0) throw new RunInputError(`${input}: no .jsonl files (distributed.jsonl, <instance>.jsonl): is it a run directory?`, RUN_HINT);
      for (const f of files) addFile(logs, join(input, f));
    } else addFile(logs, input);
  }
  return logs;
}

/** The records of an evidence file (start, stop and stats lines left out), with their n and origin. */
export function evidenceRecords(file: EvidenceFile): LoadedRecord[] {
  return file.lines.filter((l): l is SnoopRecord & { incarnation: number; n: number; origin: Origin } => l.kind !== 'start' && l.kind !== 'stop' && l.kind !== 'stats') as LoadedRecord[];
}

export type LoadedStats = EvidenceStats & { origin: Origin };

/** The `stats` lines of an evidence file (the chart's counters every second). */
export function evidenceStats(file: EvidenceFile): LoadedStats[] {
  return file.lines.filter((l): l is LoadedStats => l.kind === 'stats');
}

export const isStop = <T extends EvidenceLine>(l: T): l is T & EvidenceStop => l.kind === 'stop';

/** Key of a published message: the same in the sender's evidence file and in distributed.jsonl. */
export function messageKey(r: Pick<SnoopRecord, 'network' | 'sender' | 'host' | 'seq'>): string | undefined {
  return r.network === 'local' || r.seq === null ? undefined : `${r.network}/${r.sender}@${r.host}#${r.seq}`;
}

/** Key of a mesh event (MeshEventId). */
export function eventKey(e: { sender: string; host: string; seq: number }): string {
  return `${e.sender}@${e.host}#${e.seq}`;
}

export const where = (o: Origin) => `${basename(o.file)}:${o.line}`;

/** Adds `value` to the list under `key` (made on first use). */
export function append<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
