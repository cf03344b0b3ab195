// The sending side of a networked chart: envelopes with their sequence numbers, sealed and
// fanned out to every broker link, each event's transmission learning which brokers confirmed
// it, and the mesh records of what is sent and dispatched (on the trace network while snoop
// trace is on, else into the evidence file).
import type { Options } from 'amqplib';
import type { Event } from '../hsm/index.ts';
import type { BrokerLink } from './broker-link.ts';
import type { ChartContext } from './chart-context.ts';
import type { ChartEvidence } from './chart-evidence.ts';
import { IllegalOperationError, OutboxOverflowError } from './errors.ts';
import type { OutboxMessage } from './outbox.ts';
import { SealedEnvelope } from './sealed-envelope.ts';
import { MESH_RECORD_ROUTING_KEY, MESH_RECORD_SIGNALS, type MeshEventId } from './snoop-record.ts';
import { PendingTransmission, type Transmission } from './transmission.ts';
import { EXCHANGES, SENDER_HEADER, SNOOP_ROUTING_KEYS, type NetworkName } from './topology.ts';

/** One event on its way to one broker: its outcome goes to the event's transmission (no closures per message). */
class LinkMessage implements OutboxMessage {
  constructor(
    readonly exchange: string,
    readonly routingKey: string,
    private readonly sealed: SealedEnvelope,
    readonly options: Options.Publish,
    private readonly transmission: PendingTransmission,
    private readonly index: number,
  ) {}

  /** Read by the outbox when it publishes: stamped and encrypted again if it waited (sealed-envelope.ts). */
  get content(): Buffer {
    return this.sealed.body();
  }

  onConfirmed(): void {
    this.transmission.confirm(this.index);
  }

  onAbandoned(): void {
    this.transmission.fail(this.index);
  }
}

export class Publisher {
  // Sequence numbers start from the clock so they keep growing across restarts of a node.
  private readonly seq: Record<NetworkName, number>;
  readonly sent: Record<NetworkName, number> = { mesh: 0, trace: 0, spy: 0 };
  readonly meshRecords = { send: 0, receive: 0 };
  /** Events an outbox could not take (OutboxOverflowError), over all links. */
  deliveryErrors = 0;
  private published: { host: string; options: Record<NetworkName, Options.Publish> } | undefined;

  constructor(
    private readonly ctx: ChartContext,
    private readonly evidence: ChartEvidence,
    /** The links to publish to now: one per broker (clustered: one). */
    private readonly links: () => Iterable<BrokerLink>,
  ) {
    this.seq = { mesh: ctx.incarnation, trace: ctx.incarnation, spy: ctx.incarnation };
  }

  transmit(event: Event): Transmission {
    const { ctx } = this;
    if (ctx.phase !== 'running') {
      throw new IllegalOperationError(`transmit(${event.signalName}) on chart ${ctx.name} before startAt() resolved or after stop()`);
    }
    const lamport = ctx.clock.tick();
    const transmission = this.send('mesh', ctx.config.txRoutingKey, event.signalName, event.payload ?? null, lamport);
    this.recordMesh('mesh-send', { sender: ctx.name, host: ctx.host, inc: ctx.incarnation, iid: ctx.incarnationId, seq: transmission.seq, lamport, signal: event.signalName });
    return transmission;
  }

  broadcast(network: 'trace' | 'spy', signal: string, body: string): void {
    // Instrumentation before the networks are up (e.g. the engine's START) still goes out:
    // the links exist by the time the chart starts, and their outboxes hold it.
    if (this.ctx.phase !== 'running') return;
    this.send(network, SNOOP_ROUTING_KEYS[network], signal, body);
  }

  /** Mirrors a mesh event onto the trace network (snoop trace on), else into the evidence file only. */
  recordMesh(kind: 'mesh-send' | 'mesh-receive', event: MeshEventId): void {
    if (this.ctx.snoop.trace !== 'off' && this.ctx.phase === 'running') {
      this.meshRecords[kind === 'mesh-send' ? 'send' : 'receive']++;
      this.send('trace', MESH_RECORD_ROUTING_KEY, kind === 'mesh-send' ? MESH_RECORD_SIGNALS.send : MESH_RECORD_SIGNALS.receive, { event });
      return;
    }
    this.evidence.meshRecord(kind, event);
  }

  /** Encrypts and publishes to every broker; the handle learns which brokers confirmed it. */
  private send(network: NetworkName, routingKey: string, signal: string, payload: unknown, lamport = this.ctx.clock.time): PendingTransmission {
    const { ctx } = this;
    const envelope = {
      sender: ctx.name,
      host: ctx.host,
      seq: ++this.seq[network],
      ts: ctx.env.now(),
      signal,
      payload,
      lc: lamport,
      inc: ctx.incarnation,
      iid: ctx.incarnationId,
      // the authenticated destination (destination.ts)
      net: network,
      rk: routingKey,
    };
    const transmission = new PendingTransmission(envelope.seq);
    const sealed = new SealedEnvelope(ctx.fernets[network], envelope, ctx.env.now);
    this.sent[network]++;
    if (network !== 'mesh') this.evidence.snoopSent(network, envelope);
    const options = this.publishOptions(network);
    for (const link of this.links()) {
      const i = transmission.expect(link.broker);
      try {
        link.publish(new LinkMessage(EXCHANGES[network], routingKey, sealed, options, transmission, i));
      } catch (err) {
        if (!(err instanceof OutboxOverflowError)) throw err;
        transmission.fail(i);
        this.deliveryErrors++;
        if (ctx.options.onDeliveryError) ctx.options.onDeliveryError(err);
        else ctx.limited.warn(`overflow ${err.broker}`, `${ctx.name}: ${err.message}`);
      }
    }
    return transmission.seal();
  }

  /**
   * The AMQP properties of what we publish on `network`: one object per network, made again
   * only if this host's address changes (amqplib reads them, never writes them).
   */
  private publishOptions(network: NetworkName): Options.Publish {
    const host = this.ctx.host;
    if (this.published?.host !== host) {
      const headers = { [SENDER_HEADER]: senderId(this.ctx) };
      const common = { contentType: 'application/octet-stream', appId: 'miros-rabbitmq', headers };
      this.published = {
        host,
        options: {
          mesh: { ...common, persistent: this.ctx.options.meshDelivery !== 'transient' },
          trace: { ...common, persistent: false },
          spy: { ...common, persistent: false },
        },
      };
    }
    return this.published.options[network];
  }
}

/** The chart as a sender (SENDER_HEADER, the receiver's self-filter): name@host. */
export function senderId(ctx: Pick<ChartContext, 'name' | 'host'>): string {
  return `${ctx.name}@${ctx.host}`;
}
