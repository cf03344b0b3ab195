/**
 * A bounded double-ended queue, the TS stand-in for Python's `deque(maxlen=n)`.
 *
 * Like Python: appending to a full deque silently drops the item at the
 * opposite end (`pushBack` drops the oldest front item, `pushFront` drops the
 * back item). miros relies on this for its spy/trace ring buffers and queues.
 */
export class Deque<T> {
  private buf: (T | undefined)[];
  private head = 0;
  private size = 0;

  constructor(readonly maxlen: number = Infinity) {
    this.buf = new Array(Math.min(Math.max(maxlen, 1), 16));
  }

  get length(): number {
    return this.size;
  }

  private grow(): void {
    const old = this.buf;
    const next = new Array<T | undefined>(Math.min(old.length * 2, this.maxlen));
    for (let i = 0; i < this.size; i++) next[i] = old[(this.head + i) % old.length];
    this.buf = next;
    this.head = 0;
  }

  pushBack(item: T): void {
    if (this.maxlen <= 0) return;
    if (this.size === this.maxlen) {
      // full: drop the front item (Python deque.append)
      this.buf[this.head] = item;
      this.head = (this.head + 1) % this.buf.length;
      return;
    }
    if (this.size === this.buf.length) this.grow();
    this.buf[(this.head + this.size) % this.buf.length] = item;
    this.size++;
  }

  pushFront(item: T): void {
    if (this.maxlen <= 0) return;
    if (this.size === this.maxlen) {
      // full: drop the back item (Python deque.appendleft)
      this.head = (this.head - 1 + this.buf.length) % this.buf.length;
      this.buf[this.head] = item;
      return;
    }
    if (this.size === this.buf.length) this.grow();
    this.head = (this.head - 1 + this.buf.length) % this.buf.length;
    this.buf[this.head] = item;
    this.size++;
  }

  popFront(): T | undefined {
    if (this.size === 0) return undefined;
    const item = this.buf[this.head];
    this.buf[this.head] = undefined;
    this.head = (this.head + 1) % this.buf.length;
    this.size--;
    return item;
  }

  /** i-th item from the front (negative: from the back), like `d[i]`. */
  at(i: number): T | undefined {
    if (i < 0) i += this.size;
    if (i < 0 || i >= this.size) return undefined;
    return this.buf[(this.head + i) % this.buf.length];
  }

  clear(): void {
    const small = Math.min(Math.max(this.maxlen, 1), 16);
    // a small buffer is kept (emptied, so that it holds no item alive): a chart clears its
    // trace after every step in some loops, and a fresh array each time is garbage each time
    if (this.buf.length === small) this.buf.fill(undefined);
    else this.buf = new Array(small);
    this.head = 0;
    this.size = 0;
  }

  toArray(): T[] {
    const out = new Array<T>(this.size);
    for (let i = 0; i < this.size; i++) out[i] = this.buf[(this.head + i) % this.buf.length] as T;
    return out;
  }

  [Symbol.iterator](): Iterator<T> {
    return this.toArray()[Symbol.iterator]();
  }
}
