// distributed.jsonl: one SnoopRecord a line as an observer received it, plus `rx`, the
// observer's wall time at arrival (ms since the epoch).
import { createWriteStream, type WriteStream } from 'node:fs';
import type { SnoopRecord } from '../../runtime/index.ts';

export type DistributedRecord = SnoopRecord & { rx: number };

export interface JsonlSink {
  readonly path: string;
  readonly records: number;
  write(record: SnoopRecord): void;
  /** Flushes and closes the file. */
  close(): Promise<void>;
}

/** `foo/distributed.log` → `foo/distributed.jsonl` (any other name: `.jsonl` appended). */
export function jsonlBeside(logPath: string): string {
  return /\.log$/.test(logPath) ? logPath.replace(/\.log$/, '.jsonl') : `${logPath}.jsonl`;
}

export function openJsonlSink(path: string): JsonlSink {
  const file: WriteStream = createWriteStream(path, { flags: 'a', mode: 0o600 }); // payloads in the clear: this user only
  let records = 0;
  return {
    path,
    get records() {
      return records;
    },
    write(record) {
      records++;
      const line: DistributedRecord = { ...record, rx: Date.now() };
      file.write(`${JSON.stringify(line)}\n`);
    },
    close: () => new Promise<void>((done) => file.end(done)),
  };
}
