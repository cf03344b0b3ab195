// A chart's local evidence file (<name>.jsonl): every record it published (its snoop lines
// and mesh events) written on the spot, synchronously, so that the file survives the faults
// the networked log may lose lines to. Each start appends a new incarnation:
//   {"incarnation":I,"n":1,"kind":"start","iid":"…",…}   then its records, n = 2, 3, …
//   {"incarnation":I,"n":K,"kind":"stats",…}   every second: the chart's counters (docs/metrics.md)
// (I is the sequence base, from the clock; iid the random incarnation id: two starts with a
// clock stepped back between them are told apart by iid even if their I were equal)
//   {"incarnation":I,"n":K,"kind":"stop","totals":{…}}   on a clean stop
// n counts from 1 per incarnation with no gaps, and the closing record's totals say how
// many lines came before it, so any missing line, the last one included, shows.
import { realEnvironment, type Environment } from '../env/environment.ts';
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { LinkState } from './link-machine.ts';
import type { RecordKind, SnoopRecord } from './snoop-record.ts';

/** Environment variable naming a directory: every chart started with it writes <dir>/<name>.jsonl. */
export const EVIDENCE_DIR_ENV = 'MIROS_EVIDENCE_DIR';

export interface EvidenceStart {
  incarnation: number;
  /** The incarnation id (envelope iid); absent in files of older nodes. */
  iid?: string;
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
  byKind: Partial<Record<RecordKind | 'stats', number>>;
  /** Messages the chart sent per network (networkStats().*.sent). */
  sent: { mesh: number; trace: number; spy: number };
}

export interface EvidenceStop {
  incarnation: number;
  iid?: string;
  n: number;
  kind: 'stop';
  sender: string;
  host: string;
  ts: number;
  lamport: number;
  totals: EvidenceTotals;
}

/**
 * The chart's counters at one moment (a `stats` line, every statsIntervalMs). Counts are
 * totals since this incarnation started (plot their differences); gauges are the values now.
 */
export interface StatsCounters {
  /** Events transmitted on the mesh (networkStats().mesh.sent). Counter. */
  sent: number;
  /** Copies of them (and of snoop lines) that a broker confirmed, over all links. Counter. */
  confirmed: number;
  /** Copies not yet confirmed: waiting in an outbox plus published and awaiting the confirm. Gauge. */
  unconfirmed: number;
  /** Copies published to a broker and awaiting its confirm. Gauge. */
  inFlight: number;
  /** Copies waiting in an outbox (not yet published: link down or flow control). Gauge. */
  outbox: number;
  /** Received mesh events posted into the chart. Counter. */
  delivered: number;
  /** Received messages dropped as copies already seen, over all networks. Counter. */
  duplicates: number;
  /** Messages lost, by reason (networkStats().drops). Counters. */
  drops: Record<string, number>;
  /** Events in the chart's queue, waiting for their run-to-completion step. Gauge. */
  queue: number;
  /** State of each broker link, by broker (networkStats().brokers[].state). */
  links: Record<string, LinkState>;
}

export interface EvidenceStats extends StatsCounters {
  incarnation: number;
  /** The incarnation id of the start record (absent from older nodes). */
  iid?: string;
  n: number;
  kind: 'stats';
  sender: string;
  host: string;
  ts: number;
  lamport: number;
}

export type EvidenceLine = EvidenceStart | EvidenceStop | EvidenceStats | (SnoopRecord & { incarnation: number; n: number });

/** The evidence file of chart `name`: the option, else $MIROS_EVIDENCE_DIR/<name>.jsonl, else none. */
export function evidencePath(option: string | undefined, name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (option) return option;
  const dir = env[EVIDENCE_DIR_ENV];
  return dir ? join(dir, `${name}.jsonl`) : undefined;
}

export class EvidenceLog {
  #fd: number | undefined;
  #n = 0;
  readonly #byKind: EvidenceTotals['byKind'] = {};

  /** Opens (appends to) `path` and writes the start record of this incarnation. */
  constructor(
    readonly path: string,
    private readonly who: { sender: string; host: string; incarnation: number; iid?: string },
    private readonly env: Environment = realEnvironment,
  ) {
    mkdirSync(dirname(path), { recursive: true });
    this.#fd = openSync(path, 'a', 0o600); // payloads in the clear: this user only
    this.#line({ incarnation: who.incarnation, ...this.#iid(), n: 1, kind: 'start', sender: who.sender, host: who.host, pid: process.pid, ts: this.env.now() });
  }

  write(record: SnoopRecord): void {
    if (this.#fd === undefined) return;
    this.#byKind[record.kind] = (this.#byKind[record.kind] ?? 0) + 1;
    // every line of the file is this incarnation's: its id on each (the log check groups by it)
    this.#line({ incarnation: this.who.incarnation, n: this.#n + 1, ...record, ...this.#iid() });
  }

  /** Writes a `stats` line: the chart's counters now. */
  writeStats(lamport: number, counters: StatsCounters): void {
    if (this.#fd === undefined) return;
    this.#byKind.stats = (this.#byKind.stats ?? 0) + 1;
    const { incarnation, sender, host } = this.who;
    this.#line({ incarnation, ...this.#iid(), n: this.#n + 1, kind: 'stats', sender, host, ts: this.env.now(), lamport, ...counters });
  }

  /** Writes the closing record with the totals and closes the file. */
  close(lamport: number, sent: EvidenceTotals['sent']): void {
    if (this.#fd === undefined) return;
    const { incarnation, sender, host } = this.who;
    this.#line({ incarnation, ...this.#iid(), n: this.#n + 1, kind: 'stop', sender, host, ts: this.env.now(), lamport, totals: { lines: this.#n, byKind: { ...this.#byKind }, sent } });
    closeSync(this.#fd);
    this.#fd = undefined;
  }

  #iid(): { iid?: string } {
    return this.who.iid !== undefined ? { iid: this.who.iid } : {};
  }

  #line(line: EvidenceLine): void {
    this.#n = line.n;
    writeSync(this.#fd!, `${JSON.stringify(line)}\n`);
  }
}
