import { signalRegistry } from './signals.ts';

/** The JSON shape of `Event.dumps` (miros's, signal number dropped). */
export interface EventJson {
  signal_name: string;
  payload: unknown;
}

/**
 * An event: a signal (number and name, registered in `signals`) and an
 * optional payload. A string signal is registered on first use; a number must
 * already be registered.
 */
export class Event<P = unknown> {
  readonly signal: number;
  readonly signalName: string;
  readonly payload: P | undefined;

  constructor(signal: string | number, payload?: P) {
    if (typeof signal === 'number') {
      this.signalName = signalRegistry.nameFor(signal);
      this.signal = signal;
    } else if (typeof signal === 'string') {
      this.signal = signalRegistry.append(signal);
      this.signalName = signal;
    } else {
      throw new TypeError('signal must be a string or a registered signal number');
    }
    this.payload = payload;
  }

  hasPayload(): boolean {
    return this.payload !== undefined && this.payload !== null;
  }

  /** `"A::<>"` or `"A::<payload>"` like miros's `str(e)`. */
  toString(): string {
    return this.hasPayload() ? `${this.signalName}::<${payloadText(this.payload)}>` : `${this.signalName}::<>`;
  }

  /** `"A:11::<>"` like miros's `repr(e)`. */
  repr(): string {
    return this.hasPayload()
      ? `${this.signalName}:${this.signal}::<${payloadText(this.payload)}>`
      : `${this.signalName}:${this.signal}::<>`;
  }

  /** JSON `{"signal_name": ..., "payload": ...}`; the payload must be JSON-serialisable. */
  static dumps(e: Event): string {
    const body: EventJson = { signal_name: e.signalName, payload: e.hasPayload() ? e.payload : null };
    return JSON.stringify(body);
  }

  static loads(text: string): Event {
    const body = JSON.parse(text) as Partial<EventJson> | null;
    if (body === null || typeof body !== 'object' || typeof body.signal_name !== 'string') {
      throw new TypeError('Event.loads: expected {"signal_name": string, "payload": ...}');
    }
    return new Event(body.signal_name, body.payload ?? undefined);
  }
}

function payloadText(payload: unknown): string {
  if (typeof payload === 'object' && payload !== null) {
    try {
      return JSON.stringify(payload);
    } catch {
      return String(payload);
    }
  }
  return String(payload);
}
