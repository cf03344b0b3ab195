// Bookkeeping that input can grow (sender names, hosts, incarnations come from messages) is
// bounded: past its limit the oldest entry is shed, and every shed entry is counted, so a
// flood of invented names costs a fixed amount of memory and shows up in networkStats().

/** A Map that keeps at most `limit` entries, shedding the least recently set (insertion order, refreshed by set). */
export class BoundedMap<K, V> {
  private readonly entries = new Map<K, V>();
  /** Entries shed to stay within the limit. */
  shed = 0;

  constructor(readonly limit: number) {
    if (!Number.isSafeInteger(limit) || limit < 1) throw new TypeError(`a bound must be a positive integer, got ${limit}`);
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: K): V | undefined {
    return this.entries.get(key);
  }

  has(key: K): boolean {
    return this.entries.has(key);
  }

  set(key: K, value: V): this {
    this.entries.delete(key); // re-inserted: now the newest
    this.entries.set(key, value);
    while (this.entries.size > this.limit) {
      const oldest = this.entries.keys().next().value as K;
      this.entries.delete(oldest);
      this.shed++;
    }
    return this;
  }

  delete(key: K): boolean {
    return this.entries.delete(key);
  }

  keys(): IterableIterator<K> {
    return this.entries.keys();
  }

  values(): IterableIterator<V> {
    return this.entries.values();
  }
}

/** A Set with the same bound and count (BoundedMap underneath). */
export class BoundedSet<T> {
  private readonly map: BoundedMap<T, true>;

  constructor(limit: number) {
    this.map = new BoundedMap<T, true>(limit);
  }

  get size(): number {
    return this.map.size;
  }

  get shed(): number {
    return this.map.shed;
  }

  has(value: T): boolean {
    return this.map.has(value);
  }

  add(value: T): this {
    this.map.set(value, true);
    return this;
  }
}
