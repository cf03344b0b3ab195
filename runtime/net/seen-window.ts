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

/**
 * Incarnations of one sender whose windows are kept (newest first-heard last): a sender's
 * restart starts a new one, so this many restarts later a late copy of the oldest would
 * no longer be recognised. Redeliveries come within seconds of a restart, not four restarts.
 */
export const INCARNATIONS_PER_SENDER = 4;
/** Senders (network, name, host) whose windows are kept: ~2 KiB each, so at most ~32 MiB. */
export const SENDERS_LIMIT = 16_384;

/**
 * Every sender's windows, one per incarnation: a sender's restart (a new random incarnation
 * id in the envelope, `iid`) starts a fresh window, so its sequence numbers may start below
 * the old ones (its clock stepped back) without being taken for duplicates. Envelopes without
 * an incarnation id (a node older than the field) share one window per sender, as before.
 * Both bounds shed the oldest window and count it in `shed`.
 */
export class SeenWindows {
  /** sender key → incarnation id ('' for none) → window, in the order first heard. */
  readonly #senders = new Map<string, Map<string, SeenWindow>>();
  /** Windows forgotten by the bounds (old incarnations, or the senders heard first). */
  shed = 0;

  constructor(
    private readonly perSender = INCARNATIONS_PER_SENDER,
    private readonly senders = SENDERS_LIMIT,
    private readonly size = SEEN_WINDOW,
  ) {}

  /** Records `seq` of `sender` in `incarnation`; false if it was delivered before (SeenWindow.add). */
  add(sender: string, incarnation: string | undefined, seq: number): boolean {
    let windows = this.#senders.get(sender);
    if (!windows) {
      if (this.#senders.size >= this.senders) {
        const [oldest, theirs] = this.#senders.entries().next().value as [string, Map<string, SeenWindow>];
        this.#senders.delete(oldest);
        this.shed += theirs.size;
      }
      this.#senders.set(sender, (windows = new Map()));
    }
    const id = incarnation ?? '';
    let window = windows.get(id);
    if (!window) {
      // the id-less window is not an incarnation: it never pushes one out, nor is pushed out
      const incarnations = [...windows.keys()].filter((k) => k !== '');
      if (id !== '' && incarnations.length >= this.perSender) {
        windows.delete(incarnations[0]);
        this.shed++;
      }
      windows.set(id, (window = new SeenWindow(this.size)));
    }
    return window.add(seq);
  }

  /** Windows kept now (every sender, every incarnation). */
  get windows(): number {
    let n = 0;
    for (const w of this.#senders.values()) n += w.size;
    return n;
  }
}
