// The errors the simulated broker raises, worded as amqplib words RabbitMQ's: a channel-level
// error closes the channel (the RPC that caused it rejects with "Operation failed: …", the
// channel emits 'error' with "Channel closed by server: …", then 'close').

/** RabbitMQ's reply codes for the channel errors the simulation raises. */
export const REPLY = {
  CONNECTION_FORCED: 320,
  ACCESS_REFUSED: 403,
  NOT_FOUND: 404,
  RESOURCE_LOCKED: 405,
  PRECONDITION_FAILED: 406,
  RESOURCE_ERROR: 506,
  NOT_ALLOWED: 530,
} as const;

export type ReplyName = keyof typeof REPLY;

/** A channel (or connection) close the broker sends: the code and its text ("NOT_FOUND - no queue 'q' in vhost '/'"). */
export class AmqpClose extends Error {
  readonly code: number;
  constructor(
    readonly reply: ReplyName,
    readonly text: string,
  ) {
    super(`${REPLY[reply]} (${reply.replace(/_/g, '-')}) with message "${reply} - ${text}"`);
    this.code = REPLY[reply];
  }
}

/** An Error with the AMQP reply code, as amqplib raises them. */
export interface AmqpError extends Error {
  code?: number | string;
  classId?: number;
  methodId?: number;
}

export function withCode(message: string, code: number | string): AmqpError {
  const err: AmqpError = new Error(message);
  err.code = code;
  return err;
}

/** amqplib's IllegalOperationError: an operation on a closed channel or connection. */
export class IllegalOperationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IllegalOperationError';
  }
}
