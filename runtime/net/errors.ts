// Typed errors of the networked layer (STYLE.md "For this project" item 7).
// Every error carries a literal `code`, so callers can switch on it without instanceof.

export class MirosNetError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A missing or malformed setting; `variable` is the environment variable that could supply it. */
export class ConfigError extends MirosNetError {
  declare readonly code: 'CONFIG';
  readonly variable: string;
  /** The constructor option that could supply it, if there is one. */
  readonly option?: string;
  constructor(variable: string, message: string, options?: ErrorOptions & { option?: string }) {
    super('CONFIG', message, options);
    this.variable = variable;
    if (options?.option !== undefined) this.option = options.option;
  }
}

/** Misuse of an object in the wrong state (e.g. publishing on a closed link). */
export class IllegalOperationError extends MirosNetError {
  declare readonly code: 'ILLEGAL_OPERATION';
  constructor(message: string, options?: ErrorOptions) {
    super('ILLEGAL_OPERATION', message, options);
  }
}

/** Replaces the password of an amqp(s) URL by `***`; leaves anything unparsable untouched. */
export function maskUrlPassword(url: string): string {
  const m = /^([a-z][a-z0-9+.-]*:\/\/[^:@/?#]*:)([^@/?#]*)@/i.exec(url);
  return m ? `${m[1]}***@${url.slice(m[0].length)}` : url;
}

/** A broker that could not be reached (or refused our login). `url` never contains the password. */
export class BrokerUnreachableError extends MirosNetError {
  declare readonly code: 'BROKER_UNREACHABLE';
  readonly url: string;
  constructor(url: string, message?: string, options?: ErrorOptions) {
    const masked = maskUrlPassword(url);
    super('BROKER_UNREACHABLE', message ?? `broker unreachable: ${masked}`, options);
    this.url = masked;
  }
}

/**
 * A chart of this name already runs on this host (another live process, or another chart
 * of this process): startAt refuses the second one. Its queues are held by the first: the
 * mesh topology's exclusive consumer, the clustered topology's exclusive lock queue.
 */
export class ChartInUseError extends MirosNetError {
  declare readonly code: 'CHART_IN_USE';
  constructor(
    readonly chart: string,
    readonly host: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super('CHART_IN_USE', message, options);
  }
}

/**
 * A broker that answered and refused us: 403 ACCESS_REFUSED (wrong user or password, or the
 * guest user from another host) or 530 NOT_ALLOWED (missing vhost, no permission on it).
 * Never retried (retry.ts classifyError). Still a BrokerUnreachableError, so callers that
 * handle that keep working; `replyCode` says which refusal it was.
 */
export class BrokerAccessRefusedError extends BrokerUnreachableError {
  readonly replyCode: number | undefined;
  constructor(url: string, message: string, options?: ErrorOptions & { replyCode?: number }) {
    super(url, message, options);
    this.replyCode = options?.replyCode;
  }
}

/** The broker closed a connection or channel (AMQP close with a reply code). */
export class BrokerClosedError extends MirosNetError {
  declare readonly code: 'BROKER_CLOSED';
  readonly replyCode: number;
  readonly classId: number;
  readonly methodId: number;
  constructor(
    message: string,
    details: { replyCode: number; classId?: number; methodId?: number },
    options?: ErrorOptions,
  ) {
    super('BROKER_CLOSED', message, options);
    this.replyCode = details.replyCode;
    this.classId = details.classId ?? 0;
    this.methodId = details.methodId ?? 0;
  }
}

export type EnvelopeErrorReason = 'decrypt' | 'token' | 'json' | 'version' | 'schema' | 'oversize';

/** A received body that is not a valid envelope. Dropped and counted by the receiver, never thrown into a chart. */
export class EnvelopeError extends MirosNetError {
  declare readonly code: 'ENVELOPE';
  readonly reason: EnvelopeErrorReason;
  constructor(reason: EnvelopeErrorReason, message: string, options?: ErrorOptions) {
    super('ENVELOPE', message, options);
    this.reason = reason;
  }
}

/** An outbox for a broker is full: the event was not queued. */
export class OutboxOverflowError extends MirosNetError {
  declare readonly code: 'OUTBOX_OVERFLOW';
  readonly broker: string;
  readonly bound: number;
  constructor(broker: string, bound: number, message?: string, options?: ErrorOptions) {
    super('OUTBOX_OVERFLOW', message ?? `outbox for ${broker} is full (${bound} events); event not sent`, options);
    this.broker = broker;
    this.bound = bound;
  }
}

/** A payload that cannot travel as JSON; `path` locates the offending value (e.g. `payload.items[2]`). */
export class PayloadError extends MirosNetError {
  declare readonly code: 'PAYLOAD';
  readonly path: string;
  constructor(path: string, message: string, options?: ErrorOptions) {
    super('PAYLOAD', message, options);
    this.path = path;
  }
}
