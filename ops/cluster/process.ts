// Process helpers on /proc: liveness that does not count zombies, identity checks
// before signalling (pids get reused), and bounded waits.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { until } from '../util/wait.ts';

/** The fields of /proc/PID/stat after the command name (state, ppid, pgrp, session, …), or undefined when gone. */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** Every pid in /proc. */
function allPids(): number[] {
  return readdirSync('/proc').filter((entry) => /^\d+$/.test(entry)).map(Number);
}

/** The state letter from /proc/PID/stat (R, S, D, Z, X, …), or undefined when gone. */
export function procState(pid: number): string | undefined {
  return statFields(pid)?.[0];
}

/** True when the process exists and is not a zombie (this machine does not reap orphans). */
export function isRunning(pid: number | undefined): pid is number {
  if (!pid || pid <= 0) return false;
  const state = procState(pid);
  return state !== undefined && state !== 'Z' && state !== 'X';
}

export function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

/** The value of `name` in the process's environment (readable for our own processes / as root). */
export function envOf(pid: number, name: string): string | undefined {
  try {
    const entry = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').find((e) => e.startsWith(name + '='));
    return entry?.slice(name.length + 1);
  } catch {
    return undefined;
  }
}

/** Running and its command line contains `needle`: guards against signalling a reused pid. */
/** The pid a pid file holds, or undefined (no file, or not a pid). */
export function readPidFile(file: string): number | undefined {
  if (!existsSync(file)) return undefined;
  const n = Number(readFileSync(file, 'utf8').trim());
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

export function isOurs(pid: number | undefined, needle: string): pid is number {
  return isRunning(pid) && cmdline(pid).includes(needle);
}

/** Direct children (by ppid), scanning /proc: works without CONFIG_PROC_CHILDREN. */
export function childrenOf(pid: number): number[] {
  return allPids().filter((p) => Number(statFields(p)?.[1]) === pid); // a pid gone meanwhile has no fields
}

/** Live members of a session (the one we created with setsid when spawning detached). */
export function sessionMembers(sid: number): number[] {
  return allPids().filter((p) => {
    const fields = statFields(p);
    return fields !== undefined && Number(fields[3]) === sid && fields[0] !== 'Z' && fields[0] !== 'X';
  });
}

/** Clock ticks per second of /proc/PID/stat's times (USER_HZ: 100 on Linux's every architecture we run on). */
const USER_HZ = 100;

/**
 * CPU seconds the session of `pid` has burnt: every live member's user and system time, plus
 * what their exited and reaped children burnt (the start scripts a node runs first).
 * For a node started with setsid (spawnServer), that is the whole node. Undefined when gone.
 */
export function sessionCpuSeconds(pid: number): number | undefined {
  const sid = statFields(pid)?.[3];
  if (sid === undefined) return undefined;
  let ticks = 0;
  for (const member of sessionMembers(Number(sid))) {
    const f = statFields(member);
    if (f) ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]); // utime stime cutime cstime
  }
  return ticks / USER_HZ;
}

export function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/** Waits until none of `pids` runs (polled: they are not our children); false on timeout. */
export function waitGone(pids: number[], timeoutMs: number): Promise<boolean> {
  return until(() => !pids.some(isRunning), timeoutMs, 100);
}

/** Resident memory in MB from /proc/PID/status, or undefined. */
export function rssMb(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}
