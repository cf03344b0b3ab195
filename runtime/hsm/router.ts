/**
 * The in-process publish/subscribe router shared by every ActiveObject (miros's
 * ActiveFabric singleton). Published events are collected and delivered in a
 * microtask, lowest priority number first (1 is the highest priority), in
 * publish order within a priority. Delivery appends to (fifo) or prepends to
 * (lifo) the subscriber's queue directly, without a POST_* spy line, like miros.
 */
import type { Event } from './event.ts';

export type QueueType = 'fifo' | 'lifo';

/** What the router needs from a subscriber. */
export interface Subscriber {
  receivePublished(e: Event, queueType: QueueType): void;
}

interface Pending {
  e: Event;
  priority: number;
  seq: number;
}

export class Router {
  readonly #subscriptions = new Map<string, { fifo: Subscriber[]; lifo: Subscriber[] }>();
  #pending: Pending[] = [];
  #seq = 0;
  #scheduled = false;

  subscribe(subscriber: Subscriber, signalName: string, queueType: QueueType): void {
    let entry = this.#subscriptions.get(signalName);
    if (!entry) {
      entry = { fifo: [], lifo: [] };
      this.#subscriptions.set(signalName, entry);
    }
    const list = entry[queueType];
    if (!list.includes(subscriber)) list.push(subscriber);
  }

  /** Drops every subscription of `subscriber`. */
  unsubscribe(subscriber: Subscriber): void {
    for (const [name, entry] of this.#subscriptions) {
      entry.fifo = entry.fifo.filter((s) => s !== subscriber);
      entry.lifo = entry.lifo.filter((s) => s !== subscriber);
      if (entry.fifo.length === 0 && entry.lifo.length === 0) this.#subscriptions.delete(name);
    }
  }

  publish(e: Event, priority: number): void {
    this.#pending.push({ e, priority, seq: this.#seq++ });
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(() => this.#flush());
    }
  }

  #flush(): void {
    this.#scheduled = false;
    const batch = this.#pending.sort((a, b) => a.priority - b.priority || a.seq - b.seq);
    this.#pending = [];
    for (const { e } of batch) {
      const entry = this.#subscriptions.get(e.signalName);
      if (!entry) continue;
      for (const s of [...entry.fifo]) s.receivePublished(e, 'fifo');
      for (const s of [...entry.lifo]) s.receivePublished(e, 'lifo');
    }
  }
}

/** The process-wide router. */
export const router = new Router();
