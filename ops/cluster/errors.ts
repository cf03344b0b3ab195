// One error type for the testbed: what failed, and what to do about it.

export class ClusterError extends Error {
  override readonly name = 'ClusterError';
  constructor(
    message: string,
    /** What the user should do next (printed by the CLI after the message). */
    readonly hint?: string,
    /** Extra lines to show, such as a node's log tail. */
    readonly details?: string,
  ) {
    super(message);
  }

  /** Message, details and hint as the CLI prints them. */
  format(): string {
    return [this.message, this.details, this.hint && `→ ${this.hint}`].filter(Boolean).join('\n');
  }
}

/** What the cluster's backend cannot do: a usage error (the CLI exits 2), not a failure. */
export class UnsupportedError extends ClusterError {
  /** The CLI's exit status for it: 2, as for any usage error (1 stays "tried, failed"). */
  readonly exitCode = 2;
  constructor(message: string, hint?: string) {
    super(message, hint);
    Object.defineProperty(this, 'name', { value: 'UnsupportedError' });
  }
}
