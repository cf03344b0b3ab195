// What a chart says about broker trouble, once per broker and kind (or rate-limited), with
// what to change: the text of the warnings of brokers.ts and inbox.ts.
import type { BrokerLink } from './broker-link.ts';
import type { ChartContext } from './chart-context.ts';
import { configMismatch, mismatchAdvice, replyCodeOf, type ErrorClass } from './retry.ts';
import { tlsAdvice, tlsProblem, tlsReason } from './tls.ts';

/** Brokers already reported, so each is said once. */
export interface Reported {
  /** Brokers reported unreachable, refusing, or not up at start. */
  readonly brokers: Set<string>;
  /** Brokers that refused us for good (networkStats().refusedBrokers). */
  readonly refused: Set<string>;
}

/**
 * A TLS failure (retried with the capped backoff: a renewed certificate is picked up) or a
 * declaration the broker has differently (406; retried: the old queue may be deleted):
 * said once per broker and kind, by name, with what to change; repeats are counted.
 */
export function reportRetried(ctx: ChartContext, label: string, err: Error, cause: 'tls' | 'mismatch'): void {
  if (cause === 'tls') {
    const problem = tlsProblem(err);
    const advice = problem ? tlsAdvice(problem, ctx.config.tls) : err.message;
    ctx.limited.warn(`tls ${label}`, `${ctx.name}: TLS with broker ${label} failed (${tlsReason(err)}): ${advice}; retrying with backoff`);
    return;
  }
  const mismatch = configMismatch(err);
  const what = mismatch ? `${mismatch.kind} ${mismatch.name} ${mismatch.arg}` : err.message;
  ctx.limited.first(`mismatch ${label} ${what}`, `${ctx.name}: broker ${label}: ${mismatch ? mismatchAdvice(mismatch) : err.message}`);
}

/**
 * The broker closed a publishing link's confirm channel with an error while the connection
 * stayed (the link opens a fresh one, which declares the exchanges again, and resends what was
 * unconfirmed): said with what to change, again at most every 30 s while it lasts (counted).
 */
export function reportChannelError(ctx: ChartContext, label: string, err: Error): void {
  const code = replyCodeOf(err);
  const advice =
    code === 403
      ? "the user may not write to an exchange: it needs configure, write and read on the miros.* names (RabbitMQ's set_permissions, e.g. '^(miros\\.|amq\\.gen-)')"
      : code === 404
        ? 'an exchange was deleted on the broker: the fresh channel declares it again; queues bound to the old one are bound again when their charts reconnect or restart'
        : 'a fresh channel takes over';
  ctx.limited.warn(`channel ${label} ${code ?? err.message}`, `${ctx.name}: broker ${label} closed the publishing channel (${err.message}); ${advice}; what it had not confirmed goes again`);
}

/** Says what went wrong on a publishing link (its onProblem listener). */
export function reportLinkProblem(ctx: ChartContext, reported: Reported, link: BrokerLink, label: string, err: Error, cause: ErrorClass): void {
  if (cause === 'tls' || cause === 'mismatch') {
    reportRetried(ctx, label, err, cause);
    return;
  }
  if (cause === 'permanent' && link.linkState !== 'refused') {
    // one member of a cluster refused us: skipped, the link fails over to the others
    const member = link.snapshot().refusedMembers?.at(-1) ?? label;
    ctx.limited.first(
      `member-refused ${member}`,
      `${ctx.name}: ${member} refused us (${err.message}); failing over to the other members of ${label} ` +
        `(check the user, password and vhost on that member: rabbitUser/rabbitPassword, RABBIT_USER/RABBIT_PASSWORD)`,
    );
    return;
  }
  if (cause === 'permanent') {
    // once per broker, and never retried: every member refused, openRecovering has stopped the connection
    if (reported.refused.has(label)) return;
    reported.refused.add(label);
    reported.brokers.add(label);
    const tls = tlsProblem(err);
    ctx.warn(
      tls
        ? `${ctx.name}: TLS with broker ${label} failed (${tlsReason(err)}): ${tlsAdvice(tls, ctx.config.tls)}; its link is not retried`
        : `${ctx.name}: broker ${label} refused us (${err.message}); its link is not retried ` +
            `(check the user, password and vhost that broker accepts: rabbitUser/rabbitPassword, RABBIT_USER/RABBIT_PASSWORD)`,
    );
    return;
  }
  if (reported.brokers.has(label)) return;
  reported.brokers.add(label);
  ctx.warn(`${ctx.name}: broker ${label} unreachable (${err.message}); holding its events and retrying`);
}
