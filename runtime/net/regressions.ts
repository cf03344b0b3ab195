// Test-only regression switches: each brings back the behaviour a loss-path fix removed, so
// that the simulator's fault search (ops/sim) can show it finds that bug with no trigger
// written for it (issue 25 item 4). Off by default and in every real run: only the simulation
// turns them on (runtime/sim/simulate.ts, `regressions`), for the processes of the program's
// charts, keyed by their Environment (never the monitor's: its records are the check's
// evidence, as a real run's observer is no chart under test). Not exported from the package's index.
//
// While no switch is on anywhere, regressed() is one comparison of a module counter.
import type { Environment } from '../env/environment.ts';

export const REGRESSIONS = [
  'stop-deletes-queues', // issue 21.1: stop() deleted the chart's queues (close(true)), as leave() does
  'ack-redelivered-copies', // issue 21.2: a redelivered copy was acked as a duplicate while its original was unhandled
  'no-incarnations', // issue 21.3: one dedup window per sender, whatever its incarnation (seq base from the wall clock)
  'ignore-consumer-cancel', // issue 21.4: the null message of a broker's cancel was dropped: nothing consumed again
  'resend-whole-window', // issue 30.1: one nack took back the whole in-flight window; the watchdog resent every 10 s
  'ignore-blocked', // issue 30.2: blocked/unblocked ignored: the outbox kept sending, the watchdog kept replacing the channel
] as const;
export type Regression = (typeof REGRESSIONS)[number];

const switched = new WeakMap<Environment, ReadonlySet<Regression>>();
let environments = 0;

/** True while the old behaviour `name` is switched back for the process of `env` (the simulator only). */
export function regressed(env: Environment, name: Regression): boolean {
  return environments > 0 && (switched.get(env)?.has(name) ?? false);
}

/** Switches the old behaviours in `names` back for the process of `env` (an empty list: all off). */
export function setRegressions(env: Environment, names: readonly Regression[]): void {
  const had = switched.has(env);
  if (names.length > 0) switched.set(env, new Set(names));
  else switched.delete(env);
  environments += (names.length > 0 ? 1 : 0) - (had ? 1 : 0);
}

/** Parses a comma-separated list of switch names; a clear error names the switches there are. */
export function parseRegressions(text: string): Regression[] {
  const names = text.split(',').map((n) => n.trim()).filter((n) => n !== '');
  for (const n of names) if (!(REGRESSIONS as readonly string[]).includes(n)) throw new Error(`unknown regression ${JSON.stringify(n)} (switches: ${REGRESSIONS.join(', ')})`);
  return names as Regression[];
}
