// A fault the cluster's backend cannot do: a usage error (the CLI exits 2), not a failure.
export { UnsupportedError } from '../cluster/errors.ts';
