// What transmit() returns: a handle on one mesh event, to learn when each broker it was
// published to has confirmed it (publisher confirms). In the mesh topology that is every
// broker of the LAN; clustered, the one cluster. Never rejects: a broker whose outbox
// overflowed or whose link was closed first is listed as unconfirmed.

export interface TransmissionResult {
  /** Brokers (URLs with the password masked) that confirmed the event. */
  confirmed: string[];
  /** Brokers that never will: the outbox was full, or the link closed first. */
  unconfirmed: string[];
}

export interface Transmission {
  /** The event's sequence number on the mesh (per sender). */
  readonly seq: number;
  /** Brokers it was handed to. */
  readonly brokers: readonly string[];
  /** Resolves once every broker has confirmed it or given up on it. */
  readonly settled: Promise<TransmissionResult>;
}

/** Builds one Transmission: `expect` each broker, then `confirm` or `fail` it. */
export class PendingTransmission implements Transmission {
  readonly brokers: string[] = [];
  readonly settled: Promise<TransmissionResult>;
  private readonly result: TransmissionResult = { confirmed: [], unconfirmed: [] };
  private open = 0;
  private sealed = false;
  private resolve: (r: TransmissionResult) => void = () => undefined;

  constructor(readonly seq: number) {
    this.settled = new Promise((resolve) => (this.resolve = resolve));
  }

  /** A broker the event is handed to; returns its two outcomes (each effective once). */
  expect(broker: string): { confirm: () => void; fail: () => void } {
    this.brokers.push(broker);
    this.open++;
    let done = false;
    const end = (list: string[]) => () => {
      if (done) return;
      done = true;
      list.push(broker);
      this.open--;
      this.check();
    };
    return { confirm: end(this.result.confirmed), fail: end(this.result.unconfirmed) };
  }

  /** Every broker has been expected: from now on the last outcome settles it. */
  seal(): this {
    this.sealed = true;
    this.check();
    return this;
  }

  private check(): void {
    if (this.sealed && this.open === 0) this.resolve(this.result);
  }
}
