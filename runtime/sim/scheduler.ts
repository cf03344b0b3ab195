// The simulation's one event queue: callbacks ordered by (virtual time, insertion number),
// so no two events tie. A binary heap; cancelled events are dropped when they reach the top.

export interface ScheduledEvent {
  readonly id: number;
  readonly at: number;
  fn: () => void;
  cancelled: boolean;
}

function before(a: ScheduledEvent, b: ScheduledEvent): boolean {
  return a.at < b.at || (a.at === b.at && a.id < b.id);
}

export class EventQueue {
  private heap: ScheduledEvent[] = [];
  private byId = new Map<number, ScheduledEvent>();
  private nextId = 1;

  constructor(
    /** At most this many events pending at once: a runaway loop of timers fails loudly instead of eating memory. */
    readonly limit = 1_000_000,
  ) {}

  /** Pending (not cancelled) events. */
  get size(): number {
    return this.byId.size;
  }

  push(at: number, fn: () => void): number {
    if (this.byId.size >= this.limit) throw new Error(`sim: more than ${this.limit} events pending (a timer loop?)`);
    const event: ScheduledEvent = { id: this.nextId++, at, fn, cancelled: false };
    this.byId.set(event.id, event);
    const h = this.heap;
    h.push(event);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(h[i], h[parent])) break;
      [h[i], h[parent]] = [h[parent], h[i]];
      i = parent;
    }
    return event.id;
  }

  cancel(id: number): void {
    const event = this.byId.get(id);
    if (!event) return;
    event.cancelled = true;
    this.byId.delete(id);
  }

  /** The earliest pending event, without taking it. */
  peek(): ScheduledEvent | undefined {
    this.dropCancelled();
    return this.heap[0];
  }

  /** Takes the earliest pending event. */
  pop(): ScheduledEvent | undefined {
    this.dropCancelled();
    const top = this.heap[0];
    if (!top) return undefined;
    this.removeTop();
    this.byId.delete(top.id);
    return top;
  }

  private dropCancelled(): void {
    while (this.heap.length > 0 && this.heap[0].cancelled) this.removeTop();
  }

  private removeTop(): void {
    const h = this.heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && before(h[l], h[m])) m = l;
      if (r < h.length && before(h[r], h[m])) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m], h[i]];
      i = m;
    }
  }
}
