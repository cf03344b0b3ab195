// Which sequence numbers of one sender a receiver has delivered, so that a resent event
// is dropped as a duplicate and a late one is not. A high-water mark alone is not
// enough: when a broker nacks m1 but confirms m2, the outbox resends m1 after m2 was
// delivered, and "seq <= highest" would drop m1 although it never arrived (a silent
// loss). A bitmap of the last `size` numbers below the highest one tells the two apart
// in 2 KiB per sender and network.

/** Bigger than the outbox bound (10,000), so no resend can fall out of the window. */
export const SEEN_WINDOW = 16_384;

export class SeenWindow {
  #max: number | undefined;
  readonly #bits: Uint8Array;

  constructor(readonly size: number = SEEN_WINDOW) {
    if (!Number.isInteger(size) || size <= 0 || size % 8 !== 0) throw new RangeError('SeenWindow size must be a positive multiple of 8');
    this.#bits = new Uint8Array(size / 8);
  }

  /**
   * Records `seq`; false if it was delivered before, or is so far below the highest
   * number seen that the window no longer knows (treated as a duplicate).
   */
  add(seq: number): boolean {
    if (this.#max === undefined || seq > this.#max) {
      if (this.#max !== undefined && seq - this.#max < this.size) {
        for (let s = this.#max + 1; s < seq; s++) this.#write(s, false); // slots that now mean s, not s - size
      } else {
        this.#bits.fill(0);
      }
      this.#max = seq;
      this.#write(seq, true);
      return true;
    }
    if (seq <= this.#max - this.size || this.#read(seq)) return false;
    this.#write(seq, true);
    return true;
  }

  #slot(seq: number): [number, number] {
    const i = ((seq % this.size) + this.size) % this.size;
    return [i >> 3, 1 << (i & 7)];
  }

  #read(seq: number): boolean {
    const [byte, bit] = this.#slot(seq);
    return (this.#bits[byte]! & bit) !== 0;
  }

  #write(seq: number, seen: boolean): void {
    const [byte, bit] = this.#slot(seq);
    this.#bits[byte] = seen ? this.#bits[byte]! | bit : this.#bits[byte]! & ~bit;
  }
}
