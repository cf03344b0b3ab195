// The ops kit's errors: what failed, and what to do about it. Each area has its own subclass
// (ClusterError, TlsError); the CLI prints any of them the same way.

export class OpsError extends Error {
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

/** A bad value on the command line (a malformed key, a count out of range): the CLI exits 2, as for a usage error. */
export class BadValueError extends OpsError {
  override readonly name = 'BadValueError';
}
