// The AMQP ports (IANA), in one place for lan/ (the probe) and net/ (config, dialling).

/** AMQP over plain TCP. */
export const AMQP_PORT = 5672;

/** AMQP over TLS: the default port when TLS is on. */
export const AMQPS_PORT = 5671;

/** The default port of a URL scheme or probe: amqps → AMQPS_PORT, otherwise AMQP_PORT. */
export function defaultAmqpPort(tls: boolean): number {
  return tls ? AMQPS_PORT : AMQP_PORT;
}
