// Events delivered to the chart and not handled yet, by their dedup identity, so that a
// redelivered copy of one is acked only once the original has been handled.
//
// After a reconnect the broker redelivers what was not acked; the original's ack belonged to
// the channel that died, so acking the copy at once (as a duplicate) would remove the
// event from the queue while it still waits in the chart: a crash before the chart drains
// would lose it. Instead the copy's ack waits for the original's run-to-completion step.
// Entries live from delivery to handling, so they are bounded by what the chart holds
// (the prefetch per channel); `limit` guards against a chart that never handles.

/** At most this many unhandled originals are remembered (well above PREFETCH). */
export const UNHANDLED_LIMIT = 65_536;

export class UnhandledOriginals {
  /** identity → the acks of copies that wait for the original (empty until a copy arrives). */
  readonly #waiting = new Map<string, Array<() => void>>();
  /** Originals forgotten because the limit was reached (their copies are acked at once, as before). */
  shed = 0;

  constructor(private readonly limit = UNHANDLED_LIMIT) {}

  get size(): number {
    return this.#waiting.size;
  }

  /**
   * The original of `identity` goes to the chart; wraps its `handled` so that handling it
   * also releases every copy that arrived meanwhile.
   */
  begin(identity: string, handled: () => void): () => void {
    if (this.#waiting.size >= this.limit) {
      const oldest = this.#waiting.keys().next().value as string;
      this.#release(oldest);
      this.shed++;
    }
    this.#waiting.set(identity, []);
    return () => {
      handled();
      this.#release(identity);
    };
  }

  /**
   * A copy of `identity` arrived: true if its original is still unhandled (the copy's
   * `handled` then runs when the original is handled); false if it was handled already.
   */
  follow(identity: string, handled: () => void): boolean {
    const copies = this.#waiting.get(identity);
    if (!copies) return false;
    copies.push(handled);
    return true;
  }

  #release(identity: string): void {
    const copies = this.#waiting.get(identity);
    if (!copies) return;
    this.#waiting.delete(identity);
    for (const handled of copies) handled();
  }
}
