// The testbed's error: what failed, and what to do about it (an OpsError, as the CLI prints it).
import { OpsError } from '../util/errors.ts';

export class ClusterError extends OpsError {
  override readonly name = 'ClusterError';
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
