// What the brokers did during a run: CPU seconds of their beam processes (/proc) and
// publishes into the mesh exchange (the management API's publish_in).
import { readFileSync } from 'node:fs';
import { httpGet } from '../../cluster/health.ts';
import type { Credentials } from '../../cluster/types.ts';
import { sleep } from '../../util/wait.ts';

const CLOCK_TICKS = 100; // USER_HZ on Linux

/** utime + stime of `pid` in seconds, or undefined when it is gone. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

const MESH_EXCHANGE = 'miros.mesh.exchange';

/**
 * Publishes into the mesh exchange so far: summed over independent brokers, read once
 * from a cluster (whose every node reports the cluster's total).
 */
export async function meshPublishes(managementUrls: string[], auth: Credentials, clustered: boolean): Promise<number> {
  let total = 0;
  for (const url of clustered ? managementUrls.slice(0, 1) : managementUrls) {
    const res = await httpGet(`${url}/api/exchanges/%2F/${MESH_EXCHANGE}`, auth).catch(() => undefined);
    if (res?.status === 200) total += (JSON.parse(res.body) as { message_stats?: { publish_in?: number } }).message_stats?.publish_in ?? 0;
  }
  return total;
}

/**
 * The count once the management statistics have caught up (they are emitted every 5 s):
 * two reads 5.5 s apart agree, at most `timeoutMs`.
 */
export async function settledMeshPublishes(managementUrls: string[], auth: Credentials, clustered: boolean, timeoutMs = 20_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last = await meshPublishes(managementUrls, auth, clustered);
  for (;;) {
    await sleep(5500);
    const now = await meshPublishes(managementUrls, auth, clustered);
    if (now === last || Date.now() > deadline) return now;
    last = now;
  }
}
