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

/**
 * Builds one Transmission: `expect` each broker, then `confirm` or `fail` it by its index.
 * The `settled` promise is made only when someone asks for it: most transmit() calls ignore
 * their handle, and a promise per event is work on the mesh's hot path.
 */
export class PendingTransmission implements Transmission {
  readonly brokers: string[] = [];
  private readonly outcome: Array<boolean | undefined> = [];
  private open = 0;
  private sealed = false;
  private promise: Promise<TransmissionResult> | undefined;
  private resolve: ((r: TransmissionResult) => void) | undefined;

  constructor(readonly seq: number) {}

  get settled(): Promise<TransmissionResult> {
    if (!this.promise) {
      this.promise = new Promise((resolve) => (this.resolve = resolve));
      this.check();
    }
    return this.promise;
  }

  /** A broker the event is handed to; returns its index for confirm() and fail(). */
  expect(broker: string): number {
    this.brokers.push(broker);
    this.outcome.push(undefined);
    this.open++;
    return this.brokers.length - 1;
  }

  /** Broker `i` confirmed the event (only the first outcome of a broker counts). */
  confirm(i: number): void {
    this.end(i, true);
  }

  /** Broker `i` never will (outbox full, or its link closed first). */
  fail(i: number): void {
    this.end(i, false);
  }

  /** Every broker has been expected: from now on the last outcome settles it. */
  seal(): this {
    this.sealed = true;
    this.check();
    return this;
  }

  private end(i: number, confirmed: boolean): void {
    if (this.outcome[i] !== undefined) return;
    this.outcome[i] = confirmed;
    this.open--;
    this.check();
  }

  private check(): void {
    if (!this.sealed || this.open > 0 || !this.resolve) return;
    const result: TransmissionResult = { confirmed: [], unconfirmed: [] };
    this.brokers.forEach((broker, i) => (this.outcome[i] ? result.confirmed : result.unconfirmed).push(broker));
    this.resolve(result);
    this.resolve = undefined;
  }
}
