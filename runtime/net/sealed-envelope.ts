// An envelope encrypted when it is published, not only when it was transmitted: the Fernet
// token's timestamp is what a receiver's replay bound (replay-guard.ts) measures, so an event
// that waited in an outbox through an outage is stamped and encrypted again when it finally
// leaves, instead of arriving with a stale stamp and being taken for a replay.
import { realEnvironment } from '../env/environment.ts';
import { checkBodyLength, envelopePlaintext, type Envelope } from './envelope.ts';
import type { TokenCipher } from './fernet.ts';

/** A body younger than this is published as it is; an older one is stamped and encrypted again. */
export const RESTAMP_AFTER_MS = 1000;

export class SealedEnvelope {
  private readonly plaintext: string;
  private sealed: Buffer | undefined;
  private sealedAt = 0;

  /**
   * Checks now, so a bad payload or an oversize body throws at transmit(); encrypts when the
   * body is first asked for (published): an event that waits in an outbox (a burst beyond
   * the links' in-flight cap, an outage) is encrypted once, when it leaves, not once at
   * transmit() and again because it waited, and holds no body while it waits.
   * @throws PayloadError, TypeError as encodeEnvelope
   */
  constructor(
    private readonly cipher: TokenCipher,
    envelope: Omit<Envelope, 'v'>,
    private readonly now: () => number = realEnvironment.now,
  ) {
    this.plaintext = envelopePlaintext(envelope);
    checkBodyLength(this.plaintext);
  }

  /** The message body to publish now: the same bytes while fresh (every broker of a fan-out), a new token once RESTAMP_AFTER_MS old. */
  body(): Buffer {
    const now = this.now();
    if (this.sealed === undefined || now - this.sealedAt >= RESTAMP_AFTER_MS) {
      this.sealed = this.cipher.encryptToBuffer(this.plaintext); // its length was checked at construction
      this.sealedAt = now;
    }
    return this.sealed;
  }
}
