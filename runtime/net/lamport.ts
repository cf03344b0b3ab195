// One Lamport clock per chart (not per process): it ticks when the chart transmits a mesh
// event and when a received mesh event is dispatched (max of both clocks, plus one), and is
// read, without ticking, for every snoop line. Snoop traffic never advances it: observing
// a chart must not change its clock.
export class LamportClock {
  #time = 0;

  /** The current value (what a snoop line is stamped with). */
  get time(): number {
    return this.#time;
  }

  /** A local event that others will see (a transmit): advance by one and return the stamp. */
  tick(): number {
    return ++this.#time;
  }

  /** A received event is dispatched: jump past the sender's stamp (an old node sends none). */
  receive(remote: number | undefined): number {
    if (remote !== undefined && remote > this.#time) this.#time = remote;
    return ++this.#time;
  }
}
