// What a decrypted envelope must pass before it is delivered (issue 22, SECURITY.md): its
// authenticated destination matches how it arrived (destination.ts), and its token is within
// the replay bound (replay-guard.ts). The receiver calls it once per message, before dedup.
import { checkDestination } from './destination.ts';
import type { Envelope } from './envelope.ts';
import { ReplayGuard, tokenSeconds, type ReplayCounters } from './replay-guard.ts';
import type { NetworkName } from './topology.ts';

export interface AdmissionOptions {
  /** Deliver envelopes that name no destination (senders that predate the binding). Default false. */
  acceptUnbound?: boolean;
  /** The replay bound: messageTtl + clockSkewMs. */
  replayBoundMs: number;
  now?: () => number;
}

export interface Refusal {
  reason: 'misrouted' | 'unbound' | 'replay';
  detail: string;
}

export class Admission {
  private readonly replay: ReplayGuard;
  private readonly acceptUnbound: boolean;

  constructor(options: AdmissionOptions) {
    this.acceptUnbound = options.acceptUnbound ?? false;
    this.replay = new ReplayGuard(options.replayBoundMs, options.now);
  }

  get replayCounters(): ReplayCounters {
    return this.replay.counters;
  }

  /** Why the message must be dropped, or undefined when it may go on (to dedup and delivery). */
  refuse(network: NetworkName, routingKey: string, envelope: Envelope, body: Buffer): Refusal | undefined {
    const misplaced = checkDestination(envelope, { network, routingKey }, this.acceptUnbound);
    if (misplaced) return misplaced;
    const stamp = tokenSeconds(body);
    if (stamp === undefined) return { reason: 'replay', detail: 'the token carries no readable timestamp' };
    const stale = this.replay.check(network, envelope, stamp);
    return stale === undefined ? undefined : { reason: 'replay', detail: stale };
  }
}
