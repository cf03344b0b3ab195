// One mutating command per cluster dir at a time (a CLI `up` racing the test setup).
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ClusterError } from './errors.ts';
import { isRunning } from './process.ts';
import { sleep } from '../util/wait.ts';

const inProcess = new Map<string, Promise<unknown>>();

export async function withLock<T>(dir: string, log: (l: string) => void, fn: () => Promise<T>, timeoutMs = 600_000): Promise<T> {
  // Calls from this process queue in memory; other processes are kept out by the lock file.
  const before = inProcess.get(dir) ?? Promise.resolve();
  const mine = before.catch(() => undefined).then(() => withFileLock(dir, log, fn, timeoutMs));
  inProcess.set(dir, mine);
  try {
    return await mine;
  } finally {
    if (inProcess.get(dir) === mine) inProcess.delete(dir);
  }
}

async function withFileLock<T>(dir: string, log: (l: string) => void, fn: () => Promise<T>, timeoutMs: number): Promise<T> {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, '.lock');
  const deadline = Date.now() + timeoutMs;
  let told = false;
  for (;;) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(readFileSafe(file));
      if (!isRunning(holder) || holder === process.pid) {
        rmSync(file, { force: true }); // stale: its owner is gone
        continue;
      }
      if (Date.now() > deadline) {
        throw new ClusterError(`another mirosnet (pid ${holder}) is still working on ${dir}`, `wait for it to finish, or stop pid ${holder}`);
      }
      if (!told) log(`waiting for another mirosnet (pid ${holder}) working on ${dir}…`);
      told = true;
      await sleep(250);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(file, { force: true });
  }
}

function readFileSafe(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return '';
  }
}
