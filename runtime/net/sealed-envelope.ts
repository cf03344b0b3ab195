// An envelope encrypted when it is published, not only when it was transmitted: the Fernet
// token's timestamp is what a receiver's replay bound (replay-guard.ts) measures, so an event
// that waited in an outbox through an outage is stamped and encrypted again when it finally
// leaves, instead of arriving with a stale stamp and being taken for a replay.
import { realEnvironment } from '../env/environment.ts';
import { encryptPlaintext, envelopePlaintext, type Envelope } from './envelope.ts';
import type { TokenCipher } from './fernet.ts';

/** A body younger than this is published as it is; an older one is stamped and encrypted again. */
export const RESTAMP_AFTER_MS = 1000;

export class SealedEnvelope {
  private readonly plaintext: string;
  private sealed: Buffer;
  private sealedAt: number;

  /**
   * Checks and encrypts now, so a bad payload or an oversize body throws at transmit().
   * @throws PayloadError, TypeError as encodeEnvelope
   */
  constructor(
    private readonly cipher: TokenCipher,
    envelope: Omit<Envelope, 'v'>,
    private readonly now: () => number = realEnvironment.now,
  ) {
    this.plaintext = envelopePlaintext(envelope);
    this.sealedAt = this.now();
    this.sealed = encryptPlaintext(cipher, this.plaintext);
  }

  /** The message body to publish now: the same bytes while fresh, a new token once RESTAMP_AFTER_MS old. */
  body(): Buffer {
    const now = this.now();
    if (now - this.sealedAt >= RESTAMP_AFTER_MS) {
      this.sealed = encryptPlaintext(this.cipher, this.plaintext);
      this.sealedAt = now;
    }
    return this.sealed;
  }
}
