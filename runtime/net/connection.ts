// One recovering AMQP connection: amqplib's built-in recovery (exponential backoff with
// jitter) re-runs `setup` after every reconnect, where callers re-create their channels.
import { connect, type ChannelModel, type RecoveringChannelModel } from 'amqplib';

export const RECOVERY = { initialDelay: 200, maxDelay: 5000, factor: 2, jitter: 0.2 } as const;

export async function openRecovering(
  url: string,
  heartbeatSeconds: number,
  setup: (model: ChannelModel) => Promise<void>,
): Promise<RecoveringChannelModel> {
  // The seed's URLs carry pika's `heartbeat_interval`; amqplib reads `heartbeat`.
  const target = `${url}${url.includes('?') ? '&' : '?'}heartbeat=${heartbeatSeconds}`;
  const connection = await connect(target, { recovery: { ...RECOVERY, waitForConnect: false, setup } });
  connection.on('error', () => undefined); // surfaced through 'disconnect' / 'connect-failed'
  return connection;
}
