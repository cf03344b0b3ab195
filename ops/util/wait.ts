// Waiting, for the ops kit and the tests. Wait on an event where there is one (`within`);
// poll (`until`, `waitFor`) only for what nothing announces: a process that is not our
// child going away, a port opening, a condition over what other processes reported.

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Waits for `event` at most `timeoutMs`: true if it settled in time (its timer never outlives it).
 * The same order as the runtime's `within` (runtime/net/bounded-close.ts): the bound first.
 */
export async function within(timeoutMs: number, event: Promise<unknown>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((r) => (timer = setTimeout(r, timeoutMs, false)));
  try {
    return await Promise.race([event.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Checks `condition` every `everyMs` until it holds (true) or `timeoutMs` has passed (false). */
export async function until(condition: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) return false;
    await sleep(everyMs);
  }
  return true;
}

/** `until` for tests: throws "timed out after N ms waiting for <what>" instead of returning false. */
export async function waitFor(what: string, condition: () => boolean, timeoutMs = 15_000, everyMs = 20): Promise<void> {
  if (!(await until(condition, timeoutMs, everyMs))) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
