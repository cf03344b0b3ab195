// A chart's local evidence file (<name>.jsonl): every record it published (its snoop lines
// and mesh events) written on the spot, synchronously, so that the file survives the faults
// the networked log may lose lines to. Each start appends a new incarnation:
//   {"incarnation":I,"n":1,"kind":"start",…}   then its records, n = 2, 3, …
//   {"incarnation":I,"n":K,"kind":"stop","totals":{…}}   on a clean stop
// n counts from 1 per incarnation with no gaps, and the closing record's totals say how
// many lines came before it, so any missing line, the last one included, shows.
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { RecordKind, SnoopRecord } from './snoop-record.ts';

/** Environment variable naming a directory: every chart started with it writes <dir>/<name>.jsonl. */
export const EVIDENCE_DIR_ENV = 'MIROS_EVIDENCE_DIR';

export interface EvidenceStart {
  incarnation: number;
  n: 1;
  kind: 'start';
  sender: string;
  host: string;
  pid: number;
  ts: number;
}

export interface EvidenceTotals {
  /** Lines of this incarnation before the closing one (the start record included). */
  lines: number;
  byKind: Partial<Record<RecordKind, number>>;
  /** Messages the chart sent per network (networkStats().*.sent). */
  sent: { mesh: number; trace: number; spy: number };
}

export interface EvidenceStop {
  incarnation: number;
  n: number;
  kind: 'stop';
  sender: string;
  host: string;
  ts: number;
  lamport: number;
  totals: EvidenceTotals;
}

export type EvidenceLine = EvidenceStart | EvidenceStop | (SnoopRecord & { incarnation: number; n: number });

/** The evidence file of chart `name`: the option, else $MIROS_EVIDENCE_DIR/<name>.jsonl, else none. */
export function evidencePath(option: string | undefined, name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (option) return option;
  const dir = env[EVIDENCE_DIR_ENV];
  return dir ? join(dir, `${name}.jsonl`) : undefined;
}

export class EvidenceLog {
  #fd: number | undefined;
  #n = 0;
  readonly #byKind: Partial<Record<RecordKind, number>> = {};

  /** Opens (appends to) `path` and writes the start record of this incarnation. */
  constructor(
    readonly path: string,
    private readonly who: { sender: string; host: string; incarnation: number },
  ) {
    mkdirSync(dirname(path), { recursive: true });
    this.#fd = openSync(path, 'a', 0o600); // payloads in the clear: this user only
    this.#line({ incarnation: who.incarnation, n: 1, kind: 'start', sender: who.sender, host: who.host, pid: process.pid, ts: Date.now() });
  }

  write(record: SnoopRecord): void {
    if (this.#fd === undefined) return;
    this.#byKind[record.kind] = (this.#byKind[record.kind] ?? 0) + 1;
    this.#line({ incarnation: this.who.incarnation, n: this.#n + 1, ...record });
  }

  /** Writes the closing record with the totals and closes the file. */
  close(lamport: number, sent: EvidenceTotals['sent']): void {
    if (this.#fd === undefined) return;
    const { incarnation, sender, host } = this.who;
    this.#line({ incarnation, n: this.#n + 1, kind: 'stop', sender, host, ts: Date.now(), lamport, totals: { lines: this.#n, byKind: { ...this.#byKind }, sent } });
    closeSync(this.#fd);
    this.#fd = undefined;
  }

  #line(line: EvidenceLine): void {
    this.#n = line.n;
    writeSync(this.#fd!, `${JSON.stringify(line)}\n`);
  }
}
