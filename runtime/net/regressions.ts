// Test-only regression switches: each brings back the behaviour a loss-path fix removed, so
// that the simulator's fault search (ops/sim) can show it finds that bug with no trigger
// written for it (issue 25 item 4). Off by default, and off in every real run: only the
// simulation sets them (runtime/sim/simulate.ts, `regressions`), for the runs of one thread,
// and clears them after. Not exported from the package's index.
//
// When none is on, regressed() is one comparison of a module constant.

export const REGRESSIONS = [
  'stop-deletes-queues', // issue 21.1: stop() deleted the chart's queues (close(true)), as leave() does
  'ack-redelivered-copies', // issue 21.2: a redelivered copy was acked as a duplicate while its original was unhandled
  'no-incarnations', // issue 21.3: one dedup window per sender, whatever its incarnation (seq base from the wall clock)
  'ignore-consumer-cancel', // issue 21.4: the null message of a broker's cancel was dropped: nothing consumed again
  'resend-whole-window', // issue 30.1: one nack took back the whole in-flight window; the watchdog resent everything
  'ignore-blocked', // issue 30.2: blocked/unblocked ignored: the outbox kept sending, the watchdog kept replacing the channel
] as const;
export type Regression = (typeof REGRESSIONS)[number];

let on: ReadonlySet<Regression> | undefined;

/** True while the old behaviour `name` is switched back (tests and the simulator only). */
export function regressed(name: Regression): boolean {
  return on !== undefined && on.has(name);
}

/** Switches the old behaviours in `names` back (an empty list: all off); returns what was on before. */
export function setRegressions(names: readonly Regression[]): Regression[] {
  const before = on ? [...on] : [];
  on = names.length > 0 ? new Set(names) : undefined;
  return before;
}

/** Parses a comma-separated list of switch names; a clear error names the switches there are. */
export function parseRegressions(text: string): Regression[] {
  const names = text.split(',').map((n) => n.trim()).filter((n) => n !== '');
  for (const n of names) if (!(REGRESSIONS as readonly string[]).includes(n)) throw new Error(`unknown regression ${JSON.stringify(n)} (switches: ${REGRESSIONS.join(', ')})`);
  return names as Regression[];
}
