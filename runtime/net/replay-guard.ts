// The replay bound. Anyone with the broker credentials can capture a message and publish the
// same bytes again later; the dedup windows (seen-window.ts) catch that only while they
// remember the sender, and a restarted receiver remembers nothing. So a token older than the
// bound (messageTtl + clockSkewMs) is dropped and counted ('replay').
//
// "Older" is measured in the sender's clock as this receiver has come to know it, not by
// comparing clocks outright: per (network, sender, host, incarnation) it keeps the lead of the
// sender's clock over ours (token time − our time; negative when the sender runs behind), the
// largest seen, and a token is stale when it is more than the bound behind that lead. So:
//  - a sender whose clock is ahead (future-dated tokens) or behind is heard as long as it is
//    consistent: only a token older than its own newest by more than the bound is stale;
//  - the first token of a sender this receiver has not heard must be within the bound of our
//    own clock (the only reference there is: what a restarted receiver is replayed is refused);
//  - a new incarnation (a restart) of a sender already heard starts a lead of its own, even
//    far behind ours: a sender restarted with its clock 30 minutes behind is still heard.
//    SECURITY.md says what that leaves open.
// Fernet stamps whole seconds; a second of slack covers the truncation.
import { realEnvironment } from '../env/environment.ts';
import { BoundedMap } from './bounded.ts';
import type { Envelope } from './envelope.ts';
import type { NetworkName } from './topology.ts';

/** Senders (per network and host) whose clock leads are kept; the least recently heard are shed beyond it. */
export const MAX_REPLAY_STREAMS = 10_000;
/** Incarnations kept per sender. */
export const MAX_INCARNATIONS_PER_SENDER = 8;
/** Fernet timestamps are whole seconds (floored). */
const STAMP_RESOLUTION_MS = 1000;

export interface ReplayCounters {
  /** New incarnations of known senders accepted with a clock behind ours by more than the bound. */
  reanchored: number;
  /** Senders and incarnations forgotten to stay within the bounds (their next token is a first contact again). */
  shed: number;
}

/** The Fernet timestamp (seconds since the epoch) of a body already verified by decrypting it; undefined if unreadable. */
export function tokenSeconds(body: Buffer): number | undefined {
  // version (1) ‖ timestamp (8): the first 9 bytes are the first 12 base64url characters
  if (body.length < 12) return undefined;
  const head = Buffer.from(body.subarray(0, 12).toString('latin1'), 'base64url');
  return head.length >= 9 ? Number(head.readBigUInt64BE(1)) : undefined;
}

export class ReplayGuard {
  private readonly streams = new BoundedMap<string, BoundedMap<number, number>>(MAX_REPLAY_STREAMS);
  private incarnationsShed = 0;
  private reanchoredCount = 0;
  /** messageTtl + clockSkewMs, plus the stamp's resolution. */
  private readonly boundMs: number;

  constructor(
    boundMs: number,
    private readonly now: () => number = realEnvironment.now,
  ) {
    this.boundMs = boundMs + STAMP_RESOLUTION_MS;
  }

  get counters(): ReplayCounters {
    return { reanchored: this.reanchoredCount, shed: this.streams.shed + this.incarnationsShed };
  }

  /**
   * Why a token stamped at `stampSeconds` is refused, or undefined when it is fresh enough
   * (then it also updates what is known of the sender's clock).
   */
  check(network: NetworkName, envelope: Envelope, stampSeconds: number): string | undefined {
    const lead = stampSeconds * 1000 - this.now();
    const key = `${network}/${envelope.sender}@${envelope.host}`;
    const inc = envelope.inc ?? -1;
    const stream = this.streams.get(key);
    if (!stream) {
      if (lead < -this.boundMs) return `stamped ${Math.round(-lead / 1000)} s ago by our clock, over the bound of ${this.boundMs / 1000} s (messageTtl + clockSkewMs), from a sender not heard before`;
      this.remember(key, new BoundedMap<number, number>(MAX_INCARNATIONS_PER_SENDER), inc, lead);
      return undefined;
    }
    const known = stream.get(inc);
    if (known !== undefined) {
      if (lead < known - this.boundMs) {
        return `stamped ${Math.round((known - lead) / 1000)} s before the newest token of the same sender, over the bound of ${this.boundMs / 1000} s (messageTtl + clockSkewMs)`;
      }
      if (lead > known) this.remember(key, stream, inc, lead);
      else this.streams.set(key, stream); // heard: the newest again
      return undefined;
    }
    // a new incarnation of a sender already heard: a restart, with whatever clock it has now
    if (lead < -this.boundMs) this.reanchoredCount++;
    this.remember(key, stream, inc, lead);
    return undefined;
  }

  private remember(key: string, stream: BoundedMap<number, number>, inc: number, lead: number): void {
    const before = stream.shed;
    stream.set(inc, lead);
    this.incarnationsShed += stream.shed - before;
    this.streams.set(key, stream);
  }
}
