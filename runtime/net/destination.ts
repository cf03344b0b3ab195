// The authenticated destination: the envelope's encrypted part names the network and the
// routing key it was published with (envelope.ts `net`, `rk`). Anyone with the broker
// credentials can copy a message's bytes and publish them again with another routing key
// or on another exchange; only the holder of the network's Fernet key can write these fields,
// so a receiver drops an event whose inner destination differs from how it arrived.
import type { Envelope } from './envelope.ts';
import type { NetworkName } from './topology.ts';

export interface Arrival {
  network: NetworkName;
  /** The routing key the message was published with (the delivery's fields.routingKey). */
  routingKey: string;
}

export interface DestinationRefusal {
  /** 'misrouted': published again elsewhere; 'unbound': from a sender that predates the binding. */
  reason: 'misrouted' | 'unbound';
  detail: string;
}

/** Why `envelope` must be dropped given where it arrived, or undefined when it may be delivered. */
export function checkDestination(envelope: Envelope, arrival: Arrival, acceptUnbound: boolean): DestinationRefusal | undefined {
  if (envelope.net === undefined && envelope.rk === undefined) {
    if (acceptUnbound) return undefined;
    return {
      reason: 'unbound',
      detail: 'the envelope names no destination (a sender that predates the binding; acceptUnbound lets such senders in)',
    };
  }
  if (envelope.net !== arrival.network || envelope.rk !== arrival.routingKey) {
    return {
      reason: 'misrouted',
      detail:
        `sent on ${envelope.net ?? '?'} with routing key ${JSON.stringify(envelope.rk ?? null)}, ` +
        `arrived on ${arrival.network} with routing key ${JSON.stringify(arrival.routingKey)}: published again by someone with the broker credentials`,
    };
  }
  return undefined;
}
