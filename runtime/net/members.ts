// Which member of a broker (a RabbitMQ cluster's members, or the one broker of a mesh host)
// the next connection attempt dials, judged per member: a member that refused us (403, 530)
// is marked and skipped, the others are still tried (failover), and only when every member
// has refused is the connection given up. Pure (no I/O), so it is unit tested on its own;
// connection.ts drives it from amqplib's recovery events.
import { classifyError, type ErrorClass } from './retry.ts';

export interface AttemptOutcome {
  cause: ErrorClass;
  /** The member that refused us just now (it is skipped from now on). */
  refusedMember?: string;
  /** Every member has refused us: nothing is left to try. */
  allRefused: boolean;
}

export class MemberRotation {
  private at = 0;
  private readonly refused = new Set<number>();
  /** The class of each member's last failed attempt (cleared when a connection to it is up). */
  private readonly lastFailure = new Map<number, ErrorClass>();

  constructor(readonly urls: readonly string[]) {
    if (urls.length === 0) throw new Error('MemberRotation: no broker URL');
  }

  /** The member the next attempt dials. */
  get current(): string {
    return this.urls[this.at]!;
  }

  get allRefused(): boolean {
    return this.refused.size === this.urls.length;
  }

  /** Every member's last attempt failed in a way a quick retry does not fix (refused, or a certificate error). */
  get noneAccepts(): boolean {
    return this.urls.every((_, i) => {
      const c = this.lastFailure.get(i);
      return c === 'permanent' || c === 'tls';
    });
  }

  refusedMembers(): string[] {
    return [...this.refused].sort((a, b) => a - b).map((i) => this.urls[i]!);
  }

  /** An attempt on the current member failed with `err`. */
  failed(err: unknown): AttemptOutcome {
    const cause = classifyError(err);
    this.lastFailure.set(this.at, cause);
    if (cause !== 'permanent' || this.refused.has(this.at)) return { cause, allRefused: this.allRefused };
    this.refused.add(this.at);
    return { cause, refusedMember: this.urls[this.at]!, allRefused: this.allRefused };
  }

  /** A connection to the current member is up. */
  connected(): void {
    this.lastFailure.delete(this.at);
  }

  /** Moves on to the next member that has not refused us (wrapping); returns it, or undefined if all refused. */
  advance(): string | undefined {
    if (this.allRefused) return undefined;
    do this.at = (this.at + 1) % this.urls.length;
    while (this.refused.has(this.at));
    return this.current;
  }
}
