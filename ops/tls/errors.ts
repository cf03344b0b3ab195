// What failed in making or reading the TLS certificates, and what to do about it.
import { OpsError } from '../util/errors.ts';

export class TlsError extends OpsError {
  override readonly name = 'TlsError';
}
