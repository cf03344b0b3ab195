// The states of a publishing link (broker-link.ts) as one explicit, table-driven machine.
// Its inputs are amqplib's events on the recovering connection ('connect', 'connect-failed',
// 'disconnect', 'blocked', 'unblocked'), the retry policy's verdict on a failure (a refusal
// by every member ends the retries: connection.ts), and the link's own open() and close().
//
//   idle ──open──▶ connecting ──connect──▶ up ◀──unblock── blocked
//                    │  ▲ fail               │ ──block──────▶ │
//                    │  └────┘               │ disconnect     │ disconnect, fail
//                    │  disconnect           ▼                ▼
//                    └─────────────────▶ backoff ◀────────────┘  (fail: stays; connect: up)
//   connecting, blocked, backoff ──refuse──▶ failed
//   every state but closed ──close──▶ closed
//
// The public LinkState of networkStats() and of the evidence (connecting, up, blocked, down,
// refused, closed) is this machine's state under its older names (publicState).

/** The link's state in the machine. */
export type LinkMachineState =
  /** Made, not opened yet. */
  | 'idle'
  /** Opened and never up yet: attempts under way (the retry policy's delays between them). */
  | 'connecting'
  /** Connected, its confirm channel set up. */
  | 'up'
  /** Connected, but the broker reads nothing we publish (connection.blocked: a resource alarm). */
  | 'blocked'
  /** The connection went: reconnecting with the retry policy's backoff. */
  | 'backoff'
  /** Every member refused our credentials or vhost: not retried (terminal). */
  | 'failed'
  /** Closed by its last user (terminal). */
  | 'closed';

/** What moves the machine. */
export type LinkInput = 'open' | 'connect' | 'fail' | 'refuse' | 'disconnect' | 'block' | 'unblock' | 'close';

/** The transitions; an input a state does not list is ignored there. */
export const LINK_TRANSITIONS: Readonly<Record<LinkMachineState, Readonly<Partial<Record<LinkInput, LinkMachineState>>>>> = {
  idle: { open: 'connecting', close: 'closed' },
  connecting: { connect: 'up', fail: 'connecting', refuse: 'failed', disconnect: 'backoff', close: 'closed' },
  up: { block: 'blocked', disconnect: 'backoff', close: 'closed' },
  blocked: { unblock: 'up', disconnect: 'backoff', fail: 'backoff', refuse: 'failed', close: 'closed' },
  backoff: { connect: 'up', fail: 'backoff', refuse: 'failed', close: 'closed' },
  failed: { close: 'closed' },
  closed: {},
};

/** The link states networkStats() and the evidence show (their names from before the machine). */
export type LinkState = 'connecting' | 'up' | 'blocked' | 'down' | 'refused' | 'closed';

const PUBLIC: Readonly<Record<LinkMachineState, LinkState>> = {
  idle: 'connecting',
  connecting: 'connecting',
  up: 'up',
  blocked: 'blocked',
  backoff: 'down',
  failed: 'refused',
  closed: 'closed',
};

/** A machine state under its public name. */
export function publicState(state: LinkMachineState): LinkState {
  return PUBLIC[state];
}

export class LinkMachine {
  private current: LinkMachineState = 'idle';

  get state(): LinkMachineState {
    return this.current;
  }

  /** Connected (blocked by flow control included). */
  get connected(): boolean {
    return this.current === 'up' || this.current === 'blocked';
  }

  /** Will never connect again (failed or closed). */
  get terminal(): boolean {
    return this.current === 'failed' || this.current === 'closed';
  }

  /** Applies `input`: the state it moved from, or undefined when the current state ignores it. */
  fire(input: LinkInput): LinkMachineState | undefined {
    const next = LINK_TRANSITIONS[this.current][input];
    if (next === undefined) return undefined;
    const from = this.current;
    this.current = next;
    return from;
  }
}
