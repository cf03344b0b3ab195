// The Prometheus that `mirosnet observe` (ops/observe) runs beside a cluster is recorded here,
// by its pid file in the cluster dir, so that `cluster down` stops it without importing the
// observe code (ops/ depends one way: observe uses the cluster, never the reverse).
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { isOurs, readPidFile, signal, waitGone } from './process.ts';

/** Where observe's data, configuration, log and pid file live. */
export const observeDir = (clusterDir: string): string => join(clusterDir, 'observe');

/** The pid file of the cluster's Prometheus. */
export const observerPidFile = (clusterDir: string): string => join(observeDir(clusterDir), 'prometheus.pid');

/** The pid of the cluster's Prometheus while it runs, else undefined. */
export function runningObserver(clusterDir: string): number | undefined {
  const pid = readPidFile(observerPidFile(clusterDir));
  return isOurs(pid, 'prometheus') ? pid : undefined;
}

/** Stops the cluster's Prometheus (SIGTERM, SIGKILL after 15 s); false when none ran. */
export async function stopObserver(clusterDir: string): Promise<boolean> {
  const pid = runningObserver(clusterDir);
  rmSync(observerPidFile(clusterDir), { force: true });
  if (pid === undefined) return false;
  signal(pid, 'SIGTERM');
  if (!(await waitGone([pid], 15_000))) signal(pid, 'SIGKILL');
  return true;
}
