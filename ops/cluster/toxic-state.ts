// The toxic in force in a cluster (ops/faults/toxics.ts injects it): which host, which toxic,
// and the proxy processes it started, recorded in <dir>/toxics.json as soon as each starts.
// Kept with the cluster's state so that `cluster down` stops the proxies (they would outlive
// the namespaces they sit in) without knowing anything of the faults.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compiledModule } from '../package-root.ts';
import { ClusterError } from './errors.ts';
import { isOurs, signal, waitGone } from './process.ts';

/** The toxic proxy's program (its compiled module is what a recorded pid must run). */
export const PROXY_MODULE = 'ops/faults/proxy-main';

export interface ToxicProxyRecord {
  node: string;
  label: string;
  pid: number;
  log: string;
}

/** What toxics.json keeps: the toxic in force (its parameters as the faults wrote them) and the proxies to stop at heal. */
export interface ToxicState<T = unknown> {
  host: string;
  kind: string;
  toxic: T;
  at: string;
  proxies: ToxicProxyRecord[];
}

const statePath = (dir: string) => join(dir, 'toxics.json');

/** The toxic in force in the cluster at `dir`, if any; a file that does not parse is an error that names it. */
export function readToxicState<T = unknown>(dir: string): ToxicState<T> | undefined {
  const file = statePath(dir);
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as ToxicState<T>;
  } catch (err) {
    throw new ClusterError(`${file} is corrupt: ${(err as Error).message}`, `stop the proxies it names by hand if any run, then delete it`);
  }
}

export function writeToxicState<T>(dir: string, state: ToxicState<T>): void {
  writeFileSync(statePath(dir), `${JSON.stringify(state, null, 2)}\n`);
}

/** Stops the recorded proxies by PID (SIGTERM, SIGKILL after 5 s) and forgets the toxic; the pids stopped. */
export async function stopToxicProxies(dir: string, active: ToxicState): Promise<number[]> {
  const mine = active.proxies.filter((p) => isOurs(p.pid, compiledModule(PROXY_MODULE))).map((p) => p.pid);
  for (const pid of mine) signal(pid, 'SIGTERM');
  if (!(await waitGone(mine, 5000))) for (const pid of mine) signal(pid, 'SIGKILL');
  rmSync(statePath(dir), { force: true });
  return mine;
}

/** For `cluster down`: stops a toxic's proxies (the namespaces and their rules go with the cluster); what was done, or undefined. */
export async function stopToxicOnDown(dir: string): Promise<string | undefined> {
  const active = readToxicState(dir);
  if (!active) return undefined;
  const stopped = await stopToxicProxies(dir, active);
  return `${active.kind} toxic of ${active.host}: proxies ${stopped.join(', ') || 'already gone'} stopped`;
}
