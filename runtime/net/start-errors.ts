// startAt's errors when the chart cannot consume from its own broker: which broker, what it
// said, and what to do (credentials, a chart of that name elsewhere, a mismatched queue).
import type { ChartContext } from './chart-context.ts';
import { BrokerAccessRefusedError, BrokerUnreachableError, ChartInUseError, maskUrlPassword } from './errors.ts';
import { classifyError, configMismatch, inExclusiveUse, mismatchAdvice, replyCodeOf } from './retry.ts';
import { brokerTlsError } from './tls.ts';

/** The error startAt rejects with when opening the receiver on `own` (consuming from `consumeFrom[0]`) failed with `err`. */
export function startError(ctx: ChartContext, own: string, consumeFrom: readonly string[], err: unknown): Error {
  if (err instanceof ChartInUseError) return err;
  const { name, host, config } = ctx;
  const cause = classifyError(err);
  if (cause === 'permanent' || cause === 'tls') return brokerTlsError(name, own, err, config.tls) ?? refusedError(ctx, own, err);
  if (inExclusiveUse(err)) {
    return new ChartInUseError(
      name,
      host,
      `chart ${name}: another live process runs a chart of that name on host ${host}: its queues on ` +
        `${maskUrlPassword(consumeFrom[0])} are held by it (${(err as Error).message}). Stop that process first, or give ` +
        `this chart another name. (Waited ${config.startTimeoutMs} ms in case it was a killed process whose connection the broker had not closed yet.)`,
      { cause: err },
    );
  }
  const mismatch = configMismatch(err);
  return new BrokerUnreachableError(
    own,
    `chart ${name}: cannot consume from its own broker ${maskUrlPassword(own)} ` +
      `(waited at most ${config.startTimeoutMs} ms): ${(err as Error).message}. ` +
      (mismatch ? `The ${mismatchAdvice(mismatch)}.` : `Is RabbitMQ running there (make cluster) and are the credentials right?`),
    { cause: err },
  );
}

/** startAt's error when its own broker refused us: which broker, and where credentials are set. */
function refusedError(ctx: ChartContext, url: string, err: unknown): BrokerAccessRefusedError {
  const masked = maskUrlPassword(url);
  const replyCode = replyCodeOf(err);
  const what =
    replyCode === 530
      ? `refused access to its vhost for user ${JSON.stringify(ctx.config.rabbitUser)}`
      : `refused the credentials of user ${JSON.stringify(ctx.config.rabbitUser)} (wrong user or password; RabbitMQ's guest user may only connect from localhost)`;
  const from = ctx.config.sources.rabbitUser ?? 'default';
  return new BrokerAccessRefusedError(
    url,
    `chart ${ctx.name}: broker ${masked} ${what}: ${(err as Error).message}. ` +
      `Set the credentials with the rabbitUser/rabbitPassword options, or RABBIT_USER/RABBIT_PASSWORD ` +
      `in the environment or a .env file (the user came from: ${from}). Not retried.`,
    { cause: err, ...(replyCode !== undefined ? { replyCode } : {}) },
  );
}
