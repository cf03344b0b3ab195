// Bounded waits on the broker: amqplib's close() waits for the broker's close-ok, so a killed
// or stuck broker could hang a stop. Every close in runtime/net goes through `within`.
import { realEnvironment, type Environment, type TimerHandle } from '../env/environment.ts';

/** How long a connection's close() may wait for the broker's close-ok. */
export const CLOSE_WAIT_MS = 2000;

/** How long a clean stop lets a link's outbox drain (be confirmed) before closing it. */
export const DRAIN_MS = 2000;

/**
 * True if `work` settled (either way) within `ms`; false if it is still pending then (left
 * to itself). Its timer never outlives it. `ops/util/wait.ts` `within` takes the same order.
 */
export async function within(ms: number, work: Promise<unknown> | undefined, env: Environment = realEnvironment): Promise<boolean> {
  if (!work) return true;
  let timer: TimerHandle | undefined;
  const settled = work.then(
    () => true,
    () => true,
  );
  const late = new Promise<boolean>((resolve) => (timer = env.setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([settled, late]);
  } finally {
    env.clearTimeout(timer);
  }
}
