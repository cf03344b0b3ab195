// The receiving side of a networked chart: its subscriptions on the Receiver (dedup and the
// replay guard are the Receiver's), the self-filter, received mesh events posted into the
// chart with the ack each releases once handled, and received snoop lines written out.
import { Event } from '../hsm/index.ts';
import type { ChartContext } from './chart-context.ts';
import { reportRetried } from './broker-warnings.ts';
import { connectionName } from './connection.ts';
import type { Envelope } from './envelope.ts';
import { maskUrlPassword } from './errors.ts';
import { senderId, type Publisher } from './publisher.ts';
import { Receiver, type Subscription } from './receiver.ts';
import { classifyError } from './retry.ts';
import { formatSnoopLine } from './snoop-format.ts';
import { MESH_RECORD_BINDING, isMeshRecordSignal, snoopRecord } from './snoop-record.ts';
import { startError } from './start-errors.ts';
import { SNOOP_ROUTING_KEYS } from './topology.ts';

export class Inbox {
  private opened: Receiver | undefined;
  /** Our own mesh events that came back (dropped here; the Receiver counts those it skips itself). */
  selfDropped = 0;
  /** Received mesh events in the chart's queue, with the ack each releases once handled. */
  private readonly pendingAcks = new WeakMap<Event, () => void>();
  /** Received mesh events waiting in the chart's queue, with their envelopes (the clock ticks when one is dispatched). */
  private readonly received = new WeakMap<Event, Envelope>();
  private receiverRefused = false;

  constructor(
    private readonly ctx: ChartContext,
    private readonly publisher: Publisher,
    /** A mesh message from another sender: its host may be linked to (brokers.ts learnFrom). */
    private readonly heard: (envelope: Envelope) => void,
  ) {}

  /** Consumes from `consumeFrom` (own: this host's broker URL); rejects with startAt's error. */
  async open(own: string, consumeFrom: string[]): Promise<void> {
    const { ctx } = this;
    const receiver = (this.opened = new Receiver({
      urls: consumeFrom,
      label: maskUrlPassword(consumeFrom[0]),
      chartName: ctx.name,
      host: ctx.host,
      topology: ctx.config.topology,
      messageTtl: ctx.config.messageTtl,
      queueExpiresMs: ctx.config.queueExpiresMs,
      clockSkewMs: ctx.security.clockSkewMs,
      acceptUnbound: ctx.security.acceptUnbound,
      heartbeat: ctx.config.heartbeatInterval,
      connectionName: connectionName('sub', ctx.config.processName, ctx.host),
      ...(ctx.config.tls ? { tls: ctx.config.tls.socket } : {}),
      environment: ctx.env,
      subscriptions: this.subscriptions(),
      onDrop: ctx.warn,
      onWarning: ctx.warn,
      // a refusal at startAt rejects it (below); one later (credentials changed on the broker)
      // has stopped the connection for good (connection.ts), so say so, once
      onProblem: (err) => {
        const cause = classifyError(err);
        if (cause === 'mismatch' || cause === 'tls') {
          reportRetried(ctx, maskUrlPassword(own), err, cause);
          return;
        }
        if (ctx.phase !== 'running' || cause !== 'permanent' || this.receiverRefused) return;
        this.receiverRefused = true;
        ctx.warn(`${ctx.name}: its own broker ${maskUrlPassword(own)} refused us (${err.message}); no longer receiving, not retried`);
      },
    }));
    try {
      await receiver.open(ctx.config.startTimeoutMs);
    } catch (err) {
      throw startError(ctx, own, consumeFrom, err);
    }
  }

  /** The chart's Receiver, from open() on (its counters and state for networkStats()). */
  get receiver(): Receiver | undefined {
    return this.opened;
  }

  async close(leave: boolean): Promise<void> {
    await this.opened?.close(leave);
  }

  /** The chart has handled a received event (its run-to-completion step ended): ack it now. */
  eventHandled(e: Event): void {
    const ack = this.pendingAcks.get(e);
    if (ack === undefined) return;
    this.pendingAcks.delete(e);
    ack();
    this.opened?.ackCaughtUp();
  }

  /** Called by the chart right before it dispatches `event`: a received mesh event ticks the clock and is recorded. */
  beforeDispatch(event: Event): void {
    const envelope = this.received.get(event);
    if (!envelope) return;
    this.received.delete(event);
    const { ctx } = this;
    ctx.clock.receive(envelope.lc);
    ctx.metrics?.delivered(envelope.ts, ctx.env.now());
    const { sender, host, seq, signal } = envelope;
    const iid = envelope.iid !== undefined ? { iid: envelope.iid } : {};
    this.publisher.recordMesh('mesh-receive', { sender, host, inc: envelope.inc ?? null, ...iid, seq, lamport: envelope.lc ?? null, signal });
  }

  private subscriptions(): Subscription[] {
    const { ctx } = this;
    const list: Subscription[] = [
      {
        network: 'mesh',
        bindingKey: ctx.config.rxRoutingKey,
        fernet: ctx.fernets.mesh,
        deliver: (e, handled) => this.onMesh(e, handled),
        skipSender: senderId(ctx),
      },
    ];
    for (const network of ['trace', 'spy'] as const) {
      if (ctx.snoop[network] === 'off') continue;
      list.push({
        network,
        bindingKey: network === 'trace' && ctx.options.onSnoopRecord ? MESH_RECORD_BINDING : SNOOP_ROUTING_KEYS[network],
        fernet: ctx.fernets[network],
        deliver: (e, handled) => {
          handled();
          this.onSnoop(network, e);
        },
      });
    }
    return list;
  }

  private isSelf(envelope: Envelope): boolean {
    return envelope.sender === this.ctx.name && envelope.host === this.ctx.host;
  }

  private onMesh(envelope: Envelope, handled: () => void): void {
    if (this.isSelf(envelope)) {
      this.selfDropped++;
      handled();
      return;
    }
    this.heard(envelope);
    const event = new Event(envelope.signal, envelope.payload ?? undefined);
    this.pendingAcks.set(event, handled);
    this.received.set(event, envelope);
    this.ctx.chart.postFifo(event);
  }

  private onSnoop(network: 'trace' | 'spy', envelope: Envelope): void {
    const { ctx } = this;
    if (ctx.phase === 'stopped') return;
    // a snoop message never opens a link: the snoop keys are given to observers, who must not
    // be able to send our broker credentials to a host of their choosing (SECURITY.md)
    const local = this.isSelf(envelope);
    if (ctx.options.onSnoopRecord) {
      const record = snoopRecord(network, envelope);
      if (record) ctx.options.onSnoopRecord(record);
    }
    if (isMeshRecordSignal(envelope.signal)) return; // a record, never a line
    ctx.output(formatSnoopLine(network, envelope, local, ctx.snoop[network] === 'color'));
  }
}
