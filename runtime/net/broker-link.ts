// The link from this node to one broker (its own or another host's): one recovering
// AMQP connection (amqplib's built-in recovery: exponential backoff with jitter), one
// confirm channel re-created after every reconnect, and the bounded outbox in front.
import type { RecoveringChannelModel } from 'amqplib';
import { openRecovering } from './connection.ts';
import { EXCHANGES, type NetworkName } from './topology.ts';
import { Outbox, type OutboxMessage, type OutboxStats } from './outbox.ts';

export type LinkState = 'connecting' | 'up' | 'down' | 'closed';

export interface BrokerLinkOptions {
  url: string;
  /** For messages and errors: the URL with its password masked. */
  label: string;
  heartbeat: number;
  outboxBound: number;
  /** Called with what went wrong whenever the connection fails or drops. */
  onProblem?: (err: Error) => void;
}

export interface LinkSnapshot extends OutboxStats {
  broker: string;
  state: LinkState;
  reconnects: number;
  lastError?: string;
}

export class BrokerLink {
  readonly outbox: Outbox;
  private connection: RecoveringChannelModel | undefined;
  private state: LinkState = 'connecting';
  private reconnects = 0;
  private lastError: string | undefined;
  private opening: Promise<void> | undefined;

  constructor(private readonly options: BrokerLinkOptions) {
    this.outbox = new Outbox(options.label, options.outboxBound);
  }

  get isUp(): boolean {
    return this.state === 'up';
  }

  /** Starts connecting in the background; the outbox holds messages meanwhile. */
  open(): Promise<void> {
    this.opening ??= this.doOpen();
    return this.opening;
  }

  publish(message: OutboxMessage): void {
    this.outbox.push(message);
  }

  snapshot(): LinkSnapshot {
    return {
      broker: this.options.label,
      state: this.state,
      reconnects: this.reconnects,
      ...(this.lastError ? { lastError: this.lastError } : {}),
      ...this.outbox.snapshot(),
    };
  }

  /** Waits (bounded) for the outbox to empty, then closes the connection. */
  async close(drainMs = 2000): Promise<void> {
    if (this.state === 'up') await this.outbox.settled(drainMs);
    this.state = 'closed';
    await this.opening?.catch(() => undefined);
    await this.connection?.close().catch(() => undefined);
  }

  private async doOpen(): Promise<void> {
    const connection = await openRecovering(this.options.url, this.options.heartbeat, async (model) => {
      const channel = await model.createConfirmChannel();
      channel.on('error', () => undefined); // reported through the connection's events
      for (const network of Object.keys(EXCHANGES) as NetworkName[]) {
        await channel.assertExchange(EXCHANGES[network], 'topic', { durable: true });
      }
      this.outbox.attach(channel);
    });
    this.connection = connection;
    connection.on('connect', () => {
      if (this.state === 'closed') return;
      if (this.state === 'down') this.reconnects++;
      this.state = 'up';
    });
    const problem = (err: Error) => {
      if (this.state === 'closed') return;
      this.lastError = err.message;
      this.options.onProblem?.(err);
    };
    connection.on('disconnect', (err: Error) => {
      if (this.state === 'closed') return;
      this.state = 'down';
      this.outbox.detach();
      problem(err);
    });
    connection.on('connect-failed', (err: Error) => {
      if (this.state === 'up') return;
      this.state = this.state === 'connecting' ? 'connecting' : 'down';
      problem(err);
    });
  }
}
