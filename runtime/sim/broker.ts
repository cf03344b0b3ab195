// A simulated RabbitMQ node: what the runtime uses of one, in memory, on the world's virtual
// clock. The client side (amqp.ts) reaches it through a Wire per connection, so every frame
// takes the network's latency and frames of one connection keep their order (TCP).
//
// What it does, as RabbitMQ does (the behaviour suite, test/amqp-behaviour/, holds it to a
// real node):
// - direct, topic and fanout exchanges, bindings, the default exchange;
// - classic and quorum queues: durable or not, exclusive (owned by one connection, 405 to
//   the others, deleted with it), message TTL (x-message-ttl, per-message expiration), queue
//   expiry (x-expires), length limits (x-max-length, drop-head or reject-publish),
//   dead-lettering (x-dead-letter-exchange / -routing-key) with x-death and x-first-death-*;
// - consumers: exclusive ones (403 to a second), single active consumer, prefetch,
//   single and multiple ack, nack and reject with and without requeue, redelivery with
//   `redelivered` after a channel or connection goes, cancel (basic.cancel) when the queue
//   is deleted;
// - publisher confirms, and nacks (reject-publish overflow);
// - memory/disk alarms: a publishing connection is blocked (connection.blocked), the frames it
//   sends are held until the alarm clears (connection.unblocked);
// - crash (connections drop, what was not persisted is lost) and restart (durable exchanges,
//   queues, bindings and persisted persistent messages come back).
import type { ConsumeMessage, MessageProperties, MessagePropertyHeaders, Options, XDeath } from 'amqplib';
import { cloneValue } from './clone.ts';
import { AmqpClose } from './errors.ts';

/** The clock and event queue a broker runs on (the world's). */
export interface SimClock {
  nowMs(): number;
  schedule(delayMs: number, fn: () => void): number;
  cancel(id: number): void;
}

export interface SimBrokerLimits {
  /** Queues on the node (RabbitMQ: the queue limit): one more is refused with 406. Default 10,000. */
  queues?: number;
  /** Exchanges on the node. Default 1,000. */
  exchanges?: number;
  /** Client connections at once: one more is refused (ECONNREFUSED). Default 10,000. */
  connections?: number;
  /** Channels per connection (channel_max). Default 2,047. */
  channelsPerConnection?: number;
  /** Messages held on the node (ready and unacked): a publish over it is nacked (or dropped unconfirmed). Default 1,000,000. */
  messages?: number;
  /** Frames a blocked connection may have waiting; more are dropped and counted. Default 100,000. */
  heldFrames?: number;
  /** Consumers on one channel (RabbitMQ's consumer_max_per_channel). Default 10,000. */
  consumersPerChannel?: number;
}

export interface SimBrokerOptions {
  /** One-way network delay, virtual ms, between a client and this broker. Default 1. */
  latencyMs?: number;
  /** Virtual ms to persist a message (until its confirm goes out). Default 0 (the next event). */
  fsyncMs?: number;
  /**
   * The hosts of a RabbitMQ cluster this broker stands for (default: its own host alone). They
   * share exchanges, bindings and queues; a client dials any of them; each can crash and restart
   * on its own. Classic queues live on the node that declared them; quorum queues on every
   * member, with one leader that moves when its node goes (or on moveLeader).
   */
  members?: readonly string[];
  /** Virtual ms a quorum queue takes to elect a new leader. Default 50. */
  electionMs?: number;
  /** The logins it accepts; absent: any user and password. */
  users?: Readonly<Record<string, string>>;
  /**
   * Per user, the regular expression of the queue and exchange names it may configure, write
   * and read (RabbitMQ's permissions, one pattern for all three; the default exchange is
   * 'amq.default'). A user absent here may do anything.
   */
  permissions?: Readonly<Record<string, string>>;
  limits?: SimBrokerLimits;
}

/** What the broker calls on a client channel (amqp.ts SimChannel), after the wire's latency. */
export interface ClientChannelPort {
  onDeliver(message: ConsumeMessage): void;
  onConfirm(seq: number, multiple: boolean, ack: boolean): void;
  onCancel(consumerTag: string): void;
  /** The broker closed the channel (a channel error). */
  onServerClose(reason: AmqpClose): void;
}

/** What the broker calls on a client connection (amqp.ts SimChannelModel). */
export interface ClientConnectionPort {
  onBlocked(reason: string): void;
  onUnblocked(): void;
  /** The connection is gone: forced by the broker (320) or the socket closed (crash). */
  onDropped(err: Error): void;
}

/** One AMQP connection's network path: frames each way take the latency and keep their order. */
export class Wire {
  up = true;
  /** Client to broker frames sent and not yet arrived (the socket's send buffer, roughly). */
  inFlight = 0;
  /** Faults (faults.ts): extra one-way delay, virtual ms; frames still keep their order. */
  extraLatencyMs = 0;
  /** Faults: frames sent this way are lost (a partition; the connection drops later, as a heartbeat would tell). */
  cut = { toBroker: false, toClient: false };
  /** Faults: a paused node handles nothing that arrives before this virtual time (ms since the epoch). */
  heldUntil = 0;
  private lastToBroker = 0;
  private lastToClient = 0;

  constructor(
    private readonly clock: SimClock,
    readonly latencyMs: number,
    private readonly arrive: (frame: () => void) => void,
  ) {}

  /** Delay of a frame sent now: the latency, never overtaking an earlier frame the same way (TCP). */
  private delay(toBroker: boolean): number {
    const now = this.clock.nowMs();
    let at = now + this.latencyMs + this.extraLatencyMs;
    if (toBroker) at = Math.max(at, this.lastToBroker, this.heldUntil);
    else at = Math.max(at, this.lastToClient);
    if (toBroker) this.lastToBroker = at;
    else this.lastToClient = at;
    return at - now;
  }

  /** A frame to the broker; returns false when the write buffer is over its mark (amqplib's publish() → false). */
  toBroker(frame: () => void): boolean {
    if (!this.up) return false;
    if (this.cut.toBroker) return true; // lost on the way
    this.inFlight++;
    this.clock.schedule(this.delay(true), () => {
      this.inFlight--;
      if (this.up) this.arrive(frame);
    });
    return this.inFlight < WRITE_BUFFER_FRAMES;
  }

  /** The connection ends: nothing more travels either way, except `last` (what the client hears of the end). */
  hangUp(last: () => void): void {
    if (!this.up) return;
    this.up = false;
    this.clock.schedule(this.latencyMs + this.extraLatencyMs, last);
  }

  toClient(frame: () => void): void {
    if (!this.up || this.cut.toClient) return;
    this.clock.schedule(this.delay(false), () => {
      if (this.up) frame();
    });
  }
}

/** Frames in flight at which publish() starts returning false. */
export const WRITE_BUFFER_FRAMES = 4096;


interface StoredMessage {
  /** Order of arrival on this node: requeued messages go back by it. */
  id: number;
  exchange: string;
  routingKey: string;
  content: Buffer;
  properties: MessageProperties;
  persistent: boolean;
  /** Virtual ms since the epoch at which it expires in its queue, or undefined. */
  expiresAt: number | undefined;
  redelivered: boolean;
  /** Written to disk (the confirm has gone out): survives a crash if persistent and in a durable queue. */
  stored: boolean;
  /** Quorum queues count deliveries (x-delivery-count). */
  deliveries: number;
  /** Gone in a crash before it was written: its confirm becomes a nack. */
  lost: boolean;
}

interface Consumer {
  tag: string;
  queue: QueueState;
  channel: BrokerChannel;
  exclusive: boolean;
  noAck: boolean;
  prefetch: number;
  unacked: number;
}

interface Unacked {
  queue: QueueState;
  message: StoredMessage;
  consumer: Consumer;
}

interface QueueState {
  name: string;
  durable: boolean;
  autoDelete: boolean;
  owner: BrokerConnection | undefined;
  type: 'classic' | 'quorum';
  args: Record<string, unknown>;
  ttlMs: number | undefined;
  expiresMs: number | undefined;
  maxLength: number | undefined;
  overflow: 'drop-head' | 'reject-publish';
  deadLetterExchange: string | undefined;
  deadLetterRoutingKey: string | undefined;
  singleActiveConsumer: boolean;
  ready: StoredMessage[];
  consumers: Consumer[];
  turn: number;
  lastUsedAt: number;
  expiryTimer: number | undefined;
  ttlTimer: number | undefined;
  deleted: boolean;
  /** Classic queues: the node that holds it. */
  home: string;
  /** A durable classic queue whose node is down: there, but unusable. */
  down: boolean;
  /** Quorum queues: the node leading it, or undefined during an election. */
  leader: string | undefined;
  /** Quorum queues: publishes waiting for a leader (confirmed once one is elected). */
  awaitingLeader: Array<{ message: StoredMessage; confirm: () => void }>;
}

interface ExchangeState {
  name: string;
  type: string;
  durable: boolean;
  autoDelete: boolean;
}

interface Binding {
  queue: string;
  exchange: string;
  pattern: string;
}

/** What the delete-queue fault hears of an operator-deleted queue until it is bound again. */
export interface DeletedQueueWatch {
  /** A publish its bindings matched: confirmed, and routed nowhere. */
  routedNowhere(content: Buffer): void;
  /** A chart bound it again (from now on it receives). */
  rebound(): void;
}

export class BrokerChannel {
  open = true;
  confirm = false;
  publishSeq = 0;
  deliverySeq = 0;
  prefetch = 0;
  readonly unacked = new Map<number, Unacked>();
  readonly consumers = new Map<string, Consumer>();

  constructor(
    readonly id: number,
    readonly connection: BrokerConnection,
    readonly client: ClientChannelPort,
  ) {}
}

export class BrokerConnection {
  open = true;
  state: 'running' | 'blocking' | 'blocked' = 'running';
  readonly channels = new Map<number, BrokerChannel>();
  /** Frames that arrived while blocked, handled when the alarm clears. */
  readonly held: Array<() => void> = [];
  wire!: Wire;

  constructor(
    readonly id: number,
    readonly name: string,
    readonly client: ClientConnectionPort,
    /** The cluster member it is connected to. */
    readonly node: string,
    readonly user: string,
  ) {}
}

/** Whether a binding with `pattern` on an exchange of `type` takes a publish with these routing keys (the key and its CC). */
function bindingMatches(type: string, pattern: string, keys: readonly string[]): boolean {
  return type === 'fanout' || keys.some((k) => (type === 'topic' ? topicMatches(pattern, k) : pattern === k));
}

/** `*` is one word, `#` zero or more (RabbitMQ's topic exchange). */
export function topicMatches(pattern: string, routingKey: string): boolean {
  const p = pattern.split('.');
  const k = routingKey === '' ? [] : routingKey.split('.');
  const memo = new Map<number, boolean>();
  const match = (i: number, j: number): boolean => {
    const key = i * (k.length + 1) + j;
    const known = memo.get(key);
    if (known !== undefined) return known;
    let result: boolean;
    if (i === p.length) result = j === k.length;
    else if (p[i] === '#') result = match(i + 1, j) || (j < k.length && match(i, j + 1));
    else if (j === k.length) result = false;
    else result = (p[i] === '*' || p[i] === k[j]) && match(i + 1, j + 1);
    memo.set(key, result);
    return result;
  };
  return match(0, 0);
}

/** Counters of what the broker did, and of what it shed (by reason). */
export interface SimBrokerStats {
  published: number;
  routed: number;
  unroutable: number;
  confirmed: number;
  nacked: number;
  delivered: number;
  redelivered: number;
  acked: number;
  requeued: number;
  deadLettered: number;
  expiredQueues: number;
  /** Messages dropped: by TTL or rejection without a dead-letter exchange, overflow, deleted queues, a crash. */
  dropped: Record<'expired' | 'rejected' | 'maxlen' | 'queue-deleted' | 'crash' | 'node-limit' | 'no-dead-letter-exchange' | 'held-frames', number>;
  /** Declarations and connections refused at a limit. */
  refused: Record<'queues' | 'exchanges' | 'connections' | 'channels' | 'consumers', number>;
}

const DEFAULT_LIMITS: Required<SimBrokerLimits> = {
  queues: 10_000,
  exchanges: 1_000,
  connections: 10_000,
  channelsPerConnection: 2047,
  messages: 1_000_000,
  heldFrames: 100_000,
  consumersPerChannel: 10_000,
};

const VHOST = "in vhost '/'";

function emptyProperties(): MessageProperties {
  return {
    contentType: undefined,
    contentEncoding: undefined,
    headers: undefined,
    deliveryMode: undefined,
    priority: undefined,
    correlationId: undefined,
    replyTo: undefined,
    expiration: undefined,
    messageId: undefined,
    timestamp: undefined,
    type: undefined,
    userId: undefined,
    appId: undefined,
    clusterId: undefined,
  };
}

/**
 * amqplib's encoding of publish options into message properties (api_args.js publish), as a
 * consumer decodes them: headers always travel (an empty table at least; CC among them),
 * deliveryMode from `persistent` first, then a numeric or truthy `deliveryMode`.
 */
function propertiesOf(options: Options.Publish | undefined): MessageProperties {
  const p = emptyProperties();
  const o = options ?? {};
  const headers: MessagePropertyHeaders = {};
  for (const [k, v] of Object.entries((o.headers as Record<string, unknown> | undefined) ?? {})) if (v !== undefined) headers[k] = v;
  const cc = toKeys(o.CC);
  if (o.CC !== undefined) headers.CC = cc.map(String);
  const deliveryMode = o.persistent !== undefined ? (o.persistent ? 2 : 1) : typeof o.deliveryMode === 'number' ? o.deliveryMode : o.deliveryMode ? 2 : undefined;
  return {
    ...p,
    contentType: o.contentType,
    contentEncoding: o.contentEncoding,
    headers,
    deliveryMode,
    priority: o.priority,
    correlationId: o.correlationId,
    replyTo: o.replyTo,
    expiration: o.expiration === undefined ? undefined : String(o.expiration),
    messageId: o.messageId,
    timestamp: o.timestamp,
    type: o.type,
    userId: o.userId,
    appId: o.appId,
  };
}

function numberArg(args: Record<string, unknown>, key: string): number | undefined {
  const v = args[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function stringArg(args: Record<string, unknown>, key: string): string | undefined {
  const v = args[key];
  return typeof v === 'string' ? v : undefined;
}

/** The arguments RabbitMQ compares on a redeclaration (inequivalent arg → 406). */
const EQUIVALENCE_ARGS = ['x-message-ttl', 'x-expires', 'x-dead-letter-exchange', 'x-dead-letter-routing-key', 'x-max-length', 'x-overflow', 'x-queue-type', 'x-single-active-consumer'];

export class SimBroker {
  readonly stats: SimBrokerStats = {
    published: 0,
    routed: 0,
    unroutable: 0,
    confirmed: 0,
    nacked: 0,
    delivered: 0,
    redelivered: 0,
    acked: 0,
    requeued: 0,
    deadLettered: 0,
    expiredQueues: 0,
    dropped: { expired: 0, rejected: 0, maxlen: 0, 'queue-deleted': 0, crash: 0, 'node-limit': 0, 'no-dead-letter-exchange': 0, 'held-frames': 0 },
    refused: { queues: 0, exchanges: 0, connections: 0, channels: 0, consumers: 0 },
  };
  private readonly limits: Required<SimBrokerLimits>;
  private readonly exchanges = new Map<string, ExchangeState>();
  private readonly queues = new Map<string, QueueState>();
  private bindings: Binding[] = [];
  /** Queues an operator deleted, until bound again: what would have reached them is told to the fault (bounded by the queue limit). */
  private readonly ghosts = new Map<string, { bindings: Binding[]; watch: DeletedQueueWatch }>();
  private readonly connections = new Set<BrokerConnection>();
  private ids = 0;
  private connectionIds = 0;
  private generated = 0;
  private held = 0;
  private dispatchPending = false;
  private alarm: string | undefined;
  /** The cluster's nodes: up or not, and a count of their crashes (a frame sent before one is void). */
  private readonly nodes = new Map<string, { up: boolean; incarnation: number }>();
  /** Bumped when the last node goes down: events scheduled before it are void. */
  private incarnation = 0;

  private get running(): boolean {
    for (const n of this.nodes.values()) if (n.up) return true;
    return false;
  }

  constructor(
    readonly host: string,
    private readonly clock: SimClock,
    readonly options: SimBrokerOptions = {},
  ) {
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    for (const member of options.members ?? [host]) this.nodes.set(member, { up: true, incarnation: 0 });
    if (!this.nodes.has(host)) throw new Error(`SimBroker: ${host} is not one of its members (${[...this.nodes.keys()].join(', ')})`);
    for (const [name, type] of [['amq.direct', 'direct'], ['amq.topic', 'topic'], ['amq.fanout', 'fanout']] as const) {
      this.exchanges.set(name, { name, type, durable: true, autoDelete: false });
    }
  }

  get latencyMs(): number {
    return this.options.latencyMs ?? 1;
  }

  /** Up (accepting connections), or crashed and not restarted yet. */
  get isUp(): boolean {
    return this.running;
  }

  // ---- inspection (tests, the fault search) ----------------------------------------------

  queueNames(): string[] {
    return [...this.queues.keys()];
  }

  /** Faults: whether queue `name` exists and its node (a quorum queue: its leader) is up, so an operator could delete it. */
  queueIsUp(name: string): boolean {
    const q = this.queues.get(name);
    if (!q) return false;
    return q.type === 'quorum' ? q.leader !== undefined : !q.down && this.isNodeUp(q.home);
  }

  hasQueue(name: string): boolean {
    return this.queues.has(name);
  }

  exchangeType(name: string): string | undefined {
    return this.exchanges.get(name)?.type;
  }

  /** Messages of `queue` ready and handed out unacked (undefined if there is no such queue). */
  depth(queue: string): { ready: number; unacked: number } | undefined {
    const q = this.queues.get(queue);
    if (!q) return undefined;
    return { ready: q.ready.length, unacked: q.consumers.reduce((n, c) => n + c.unacked, 0) + this.orphanUnacked(q) };
  }

  bindingsOf(queue: string): Array<{ exchange: string; pattern: string }> {
    return this.bindings.filter((b) => b.queue === queue).map(({ exchange, pattern }) => ({ exchange, pattern }));
  }

  /** Client connections open now. */
  get connectionCount(): number {
    return this.connections.size;
  }

  // ---- faults --------------------------------------------------------------------------

  /** A memory (or disk) alarm: publishing connections are blocked until it clears. */
  setAlarm(on: boolean, resource: 'memory' | 'disk' = 'memory'): void {
    const reason = on ? `low on ${resource}` : undefined;
    if (reason === this.alarm) return;
    this.alarm = reason;
    for (const c of this.connections) {
      if (reason !== undefined) {
        if (c.state === 'running') c.state = 'blocking';
      } else if (c.state === 'blocking') c.state = 'running';
      else if (c.state === 'blocked') {
        c.state = 'running';
        c.wire.toClient(() => c.client.onUnblocked());
        const frames = c.held.splice(0);
        this.held -= frames.length;
        for (const frame of frames) {
          if (c.state !== 'running') {
            this.hold(c, frame);
            continue;
          }
          frame();
        }
      }
    }
  }

  /** Closes every client connection (or those whose name contains `part`) with 320 CONNECTION_FORCED. */
  dropConnections(part?: string): number {
    let n = 0;
    for (const c of [...this.connections]) {
      if (part !== undefined && !c.name.includes(part)) continue;
      n++;
      const err = new Error('Connection closed: 320 (CONNECTION-FORCED) with message "CONNECTION_FORCED - Closed via management plugin"');
      (err as Error & { code: number }).code = 320;
      this.closeConnection(c);
      c.wire.hangUp(() => c.client.onDropped(err));
    }
    return n;
  }

  /** Faults: the wires of the client connections open now (optionally those whose name contains `part`). */
  wires(part?: string): Wire[] {
    return [...this.connections].filter((c) => part === undefined || c.name.includes(part)).map((c) => c.wire);
  }

  /**
   * Faults: an operator policy caps queue `name` at `maxLength` ready messages with overflow
   * reject-publish (`rabbitmqctl set_operator_policy … '{"max-length":N,"overflow":"reject-publish"}'`):
   * a publish that reaches it while it is full is nacked. Undefined clears the policy. It holds for
   * the name, a queue declared again included, as a policy does.
   */
  capQueue(name: string, maxLength: number | undefined): void {
    if (maxLength === undefined) this.caps.delete(name);
    else if (this.caps.size < this.limits.queues) this.caps.set(name, maxLength);
  }

  /** Queue caps set by an operator policy (capQueue), by queue name. */
  private readonly caps = new Map<string, number>();

  /** Faults: an operator deletes queue `name` (rabbitmqctl delete_queue); returns the messages it held (ready and unacked), or undefined if absent. */
  deleteQueueByOperator(name: string, watch?: DeletedQueueWatch): number | undefined {
    const q = this.queues.get(name);
    if (!q) return undefined;
    const held = q.ready.length + q.consumers.reduce((n, c) => n + c.unacked, 0) + this.orphanUnacked(q);
    const bindings = this.bindings.filter((b) => b.queue === name);
    this.deleteQueueState(q);
    // until the queue is bound again, a publish its bindings match goes nowhere (and is confirmed):
    // the fault counts those as it counts what the queue held
    if (watch && bindings.length > 0 && this.ghosts.size < this.limits.queues) this.ghosts.set(name, { bindings, watch });
    return held;
  }

  /** The cluster's member hosts. */
  get members(): string[] {
    return [...this.nodes.keys()];
  }

  isNodeUp(node: string): boolean {
    return this.nodes.get(node)?.up ?? false;
  }

  /** The node leading quorum queue `queue` (undefined during an election, or if it is not a quorum queue). */
  leaderOf(queue: string): string | undefined {
    return this.queues.get(queue)?.leader;
  }

  /** Every node dies (crashNode on each). */
  crash(): void {
    for (const node of this.nodes.keys()) this.crashNode(node);
  }

  /** Every node comes back. */
  restart(): void {
    for (const node of this.nodes.keys()) this.restartNode(node);
  }

  /**
   * A node dies: its connections drop ("Unexpected close" at the clients); what lived only in
   * its memory is gone: its transient classic queues, the transient messages and those not yet
   * written (their confirms had not gone out) of its durable ones, which stay down until it
   * restarts. Quorum queues it led elect a new leader among the members still up (a majority
   * is needed). When the last node goes, transient exchanges go too.
   */
  crashNode(node: string): void {
    const state = this.nodes.get(node);
    if (!state) throw new Error(`SimBroker: no node ${node} (members: ${this.members.join(', ')})`);
    if (!state.up) return;
    state.up = false;
    state.incarnation++;
    for (const c of [...this.connections]) {
      if (c.node !== node) continue;
      const err = new Error('Unexpected close');
      c.wire.hangUp(() => c.client.onDropped(err));
      // its channels' unacked deliveries go back as if closed; the queues on the node are handled below
      this.closeConnection(c);
    }
    const last = !this.running;
    if (last) {
      this.incarnation++;
      this.dispatchPending = false;
    }
    for (const q of [...this.queues.values()]) {
      if (q.type === 'quorum') {
        // replicated: what was committed (confirmed) survives the node
        const lost = q.ready.filter((m) => !m.stored);
        this.stats.dropped.crash += lost.length;
        for (const m of lost) m.lost = true;
        if (lost.length > 0) q.ready = q.ready.filter((m) => m.stored);
        if (q.leader === node) this.loseLeader(q);
        if (last) this.clearTimers(q);
        continue;
      }
      if (q.home !== node) continue;
      this.clearTimers(q);
      this.cancelConsumers(q);
      if (!q.durable || q.owner !== undefined) {
        this.stats.dropped.crash += q.ready.length;
        for (const m of q.ready) m.lost = true;
        this.removeQueue(q);
        continue;
      }
      const kept = q.ready.filter((m) => m.persistent && m.stored);
      this.stats.dropped.crash += q.ready.length - kept.length;
      for (const m of q.ready) if (!kept.includes(m)) m.lost = true;
      // after an unclean stop the node cannot know which were delivered: all come back redelivered
      for (const m of kept) m.redelivered = true;
      q.ready = kept;
      q.down = true;
    }
    if (last) {
      for (const [name, e] of [...this.exchanges]) if (!e.durable) this.exchanges.delete(name);
      this.bindings = this.bindings.filter((b) => this.queues.has(b.queue) && (b.exchange === '' || this.exchanges.has(b.exchange)));
    }
  }

  /** A node comes back: its durable classic queues with what was written; quorum queues without a leader elect one. */
  restartNode(node: string): void {
    const state = this.nodes.get(node);
    if (!state) throw new Error(`SimBroker: no node ${node} (members: ${this.members.join(', ')})`);
    if (state.up) return;
    state.up = true;
    for (const q of this.queues.values()) {
      if (q.type === 'classic' && q.home !== node) continue;
      q.down = false;
      q.lastUsedAt = this.clock.nowMs();
      this.armExpiry(q);
      this.armTtl(q);
      if (q.type === 'quorum' && q.leader === undefined) this.elect(q);
    }
    this.scheduleDispatch();
  }

  /** Leadership of quorum queue `queue` moves (to `node` if given and up): publishes wait for the election. */
  moveLeader(queue: string, node?: string): void {
    const q = this.queues.get(queue);
    if (!q || q.type !== 'quorum') throw new Error(`SimBroker: ${queue} is not a quorum queue`);
    this.loseLeader(q, node);
  }

  private loseLeader(q: QueueState, prefer?: string): void {
    const old = q.leader;
    q.leader = undefined;
    this.elect(q, old, prefer);
  }

  /** After electionMs, a member that is up leads, if a majority of members is up; else it waits for a restart. */
  private elect(q: QueueState, old?: string, prefer?: string): void {
    const members = this.members;
    this.clock.schedule(this.options.electionMs ?? 50, () => {
      if (q.deleted || q.leader !== undefined) return;
      const up = members.filter((m) => this.isNodeUp(m));
      if (up.length * 2 <= members.length) return; // no majority: restartNode elects
      const start = old === undefined ? 0 : (members.indexOf(old) + 1) % members.length;
      const order = [...members.slice(start), ...members.slice(0, start)];
      q.leader = prefer !== undefined && this.isNodeUp(prefer) ? prefer : order.find((m) => this.isNodeUp(m));
      for (const w of q.awaitingLeader.splice(0)) {
        q.ready.push(w.message);
        w.confirm();
      }
      this.armTtl(q);
      this.scheduleDispatch();
    });
  }

  /** The queue's consumers are cancelled (basic.cancel): the queue went away or down. */
  private cancelConsumers(q: QueueState): void {
    for (const consumer of [...q.consumers]) {
      consumer.channel.consumers.delete(consumer.tag);
      const ch = consumer.channel;
      ch.connection.wire.toClient(() => ch.client.onCancel(consumer.tag));
    }
    q.consumers = [];
  }

  // ---- connections (amqp.ts) ------------------------------------------------------------

  /** A client dials: the connection, or an error as the client would see it. */
  accept(name: string, user: string, password: string, client: ClientConnectionPort, node = this.host): BrokerConnection | Error {
    const state = this.nodes.get(node);
    if (!state?.up) return Object.assign(new Error(`connect ECONNREFUSED ${node}:5672`), { code: 'ECONNREFUSED' });
    if (this.connections.size >= this.limits.connections) {
      this.stats.refused.connections++;
      return Object.assign(new Error(`connect ECONNREFUSED ${this.host}:5672`), { code: 'ECONNREFUSED' });
    }
    const users = this.options.users;
    if (users && users[user] !== password) {
      return Object.assign(
        new Error('Handshake terminated by server: 403 (ACCESS-REFUSED) with message "ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN. For details see the broker logfile."'),
        { code: 403 },
      );
    }
    const connection = new BrokerConnection(++this.connectionIds, name, client, node, user);
    const incarnation = state.incarnation;
    connection.wire = new Wire(this.clock, this.latencyMs, (frame) => {
      if (incarnation !== state.incarnation || !connection.open) return;
      if (connection.state === 'blocked') this.hold(connection, frame);
      else frame();
    });
    if (this.alarm !== undefined) connection.state = 'blocking';
    this.connections.add(connection);
    return connection;
  }

  /** The client closed its connection, or its socket went (the process died). */
  closeConnection(c: BrokerConnection): void {
    if (!c.open) return;
    c.open = false;
    this.connections.delete(c);
    this.held -= c.held.length;
    c.held.length = 0;
    for (const ch of [...c.channels.values()]) this.closeChannel(ch);
    for (const q of [...this.queues.values()]) if (q.owner === c) this.deleteQueueState(q);
  }

  openChannel(c: BrokerConnection, id: number, client: ClientChannelPort): BrokerChannel {
    if (c.channels.size >= this.limits.channelsPerConnection) {
      this.stats.refused.channels++;
      throw new AmqpClose('NOT_ALLOWED', `number of channels opened (${c.channels.size}) has reached the negotiated channel_max (${this.limits.channelsPerConnection})`);
    }
    const ch = new BrokerChannel(id, c, client);
    c.channels.set(id, ch);
    return ch;
  }

  /** A channel closes (by its client, by a channel error, or with its connection): unacked deliveries go back to their queues. */
  closeChannel(ch: BrokerChannel, error?: AmqpClose): void {
    if (!ch.open) return;
    ch.open = false;
    ch.connection.channels.delete(ch.id);
    for (const consumer of [...ch.consumers.values()]) this.removeConsumer(consumer);
    const back = new Map<QueueState, StoredMessage[]>();
    for (const u of ch.unacked.values()) {
      this.unackedIndex.delete(u.message);
      if (u.queue.deleted) continue;
      const list = back.get(u.queue) ?? [];
      list.push(u.message);
      back.set(u.queue, list);
    }
    ch.unacked.clear();
    for (const [q, messages] of back) this.requeue(q, messages);
    if (error) ch.connection.wire.toClient(() => ch.client.onServerClose(error));
    this.scheduleDispatch();
  }

  // ---- channel methods: each throws AmqpClose for a channel error ------------------------

  declareExchange(ch: BrokerChannel, name: string, type: string, options: Options.AssertExchange | undefined): void {
    this.permit(ch, 'exchange', name);
    if (name.startsWith('amq.') && !this.exchanges.has(name)) throw new AmqpClose('ACCESS_REFUSED', `exchange name '${name}' contains reserved prefix 'amq.*'`);
    const known = this.exchanges.get(name);
    if (known) {
      if (known.type !== type) throw new AmqpClose('PRECONDITION_FAILED', `inequivalent arg 'type' for exchange '${name}' ${VHOST}: received '${type}' but current is '${known.type}'`);
      const durable = options?.durable ?? true;
      if (known.durable !== durable) throw new AmqpClose('PRECONDITION_FAILED', `inequivalent arg 'durable' for exchange '${name}' ${VHOST}: received '${durable}' but current is '${known.durable}'`);
      return;
    }
    if (!['direct', 'topic', 'fanout'].includes(type)) throw new AmqpClose('PRECONDITION_FAILED', `exchange type '${type}' is not simulated`);
    if (this.exchanges.size >= this.limits.exchanges) {
      this.stats.refused.exchanges++;
      throw new AmqpClose('PRECONDITION_FAILED', `cannot declare exchange '${name}' ${VHOST}: exchange limit of ${this.limits.exchanges} is reached`);
    }
    this.exchanges.set(name, { name, type, durable: options?.durable ?? true, autoDelete: options?.autoDelete ?? false });
  }

  declareQueue(ch: BrokerChannel, requested: string, options: Options.AssertQueue | undefined): { queue: string; messageCount: number; consumerCount: number } {
    const name = requested === '' ? `amq.gen-${(++this.generated).toString(36).padStart(22, 'A')}` : requested;
    this.permit(ch, 'queue', name);
    const args: Record<string, unknown> = { ...(options?.arguments as Record<string, unknown> | undefined) };
    // amqplib turns these options into arguments
    if (options?.messageTtl !== undefined) args['x-message-ttl'] = options.messageTtl;
    if (options?.expires !== undefined) args['x-expires'] = options.expires;
    if (options?.deadLetterExchange !== undefined) args['x-dead-letter-exchange'] = options.deadLetterExchange;
    if (options?.deadLetterRoutingKey !== undefined) args['x-dead-letter-routing-key'] = options.deadLetterRoutingKey;
    if (options?.maxLength !== undefined) args['x-max-length'] = options.maxLength;
    const exclusive = options?.exclusive ?? false;
    const durable = options?.durable ?? true;
    const known = this.queues.get(name);
    if (known) {
      this.checkUp(known);
      this.checkOwner(ch, known);
      if (known.durable !== durable) throw new AmqpClose('PRECONDITION_FAILED', `inequivalent arg 'durable' for queue '${name}' ${VHOST}: received '${durable}' but current is '${known.durable}'`);
      for (const key of EQUIVALENCE_ARGS) {
        const a = key === 'x-queue-type' ? (args[key] ?? 'classic') : args[key];
        const b = key === 'x-queue-type' ? (known.args[key] ?? 'classic') : known.args[key];
        if (a !== b && !(key === 'x-queue-type' && a === undefined)) {
          throw new AmqpClose('PRECONDITION_FAILED', `inequivalent arg '${key}' for queue '${name}' ${VHOST}: received ${describeArg(a)} but current is ${describeArg(b)}`);
        }
      }
      known.lastUsedAt = this.clock.nowMs();
      this.armExpiry(known);
      return { queue: name, messageCount: known.ready.length, consumerCount: known.consumers.length };
    }
    if (name.startsWith('amq.') && requested !== '') throw new AmqpClose('ACCESS_REFUSED', `queue name '${name}' contains reserved prefix 'amq.*'`);
    const type = args['x-queue-type'] === 'quorum' ? 'quorum' : 'classic';
    if (type === 'quorum' && (exclusive || !durable)) {
      throw new AmqpClose('PRECONDITION_FAILED', `invalid property '${exclusive ? 'exclusive' : 'non-durable'}' for queue '${name}' ${VHOST}`);
    }
    if (this.queues.size >= this.limits.queues) {
      this.stats.refused.queues++;
      throw new AmqpClose('PRECONDITION_FAILED', `cannot declare queue '${name}' ${VHOST}: queue limit of ${this.limits.queues} is reached`);
    }
    const overflow = stringArg(args, 'x-overflow');
    const q: QueueState = {
      name,
      durable,
      autoDelete: options?.autoDelete ?? false,
      owner: exclusive ? ch.connection : undefined,
      type,
      args,
      ttlMs: numberArg(args, 'x-message-ttl'),
      expiresMs: numberArg(args, 'x-expires'),
      maxLength: numberArg(args, 'x-max-length'),
      overflow: overflow === 'reject-publish' ? 'reject-publish' : 'drop-head',
      deadLetterExchange: stringArg(args, 'x-dead-letter-exchange'),
      deadLetterRoutingKey: stringArg(args, 'x-dead-letter-routing-key'),
      singleActiveConsumer: args['x-single-active-consumer'] === true,
      ready: [],
      consumers: [],
      turn: 0,
      lastUsedAt: this.clock.nowMs(),
      expiryTimer: undefined,
      ttlTimer: undefined,
      deleted: false,
      home: ch.connection.node,
      down: false,
      leader: type === 'quorum' ? ch.connection.node : undefined,
      awaitingLeader: [],
    };
    this.queues.set(name, q);
    this.armExpiry(q);
    return { queue: name, messageCount: 0, consumerCount: 0 };
  }

  checkQueue(ch: BrokerChannel, name: string): { queue: string; messageCount: number; consumerCount: number } {
    const q = this.queue(name);
    this.checkOwner(ch, q);
    return { queue: name, messageCount: q.ready.length, consumerCount: q.consumers.length };
  }

  deleteExchange(ch: BrokerChannel, name: string): void {
    this.permit(ch, 'exchange', name);
    if (name.startsWith('amq.') || name === '') throw new AmqpClose('ACCESS_REFUSED', `operation not permitted on the default exchange`);
    this.exchanges.delete(name);
    this.bindings = this.bindings.filter((b) => b.exchange !== name);
  }

  bindQueue(ch: BrokerChannel, queue: string, exchange: string, pattern: string): void {
    this.permit(ch, 'queue', queue);
    this.permit(ch, 'exchange', exchange);
    const q = this.queue(queue);
    this.checkOwner(ch, q);
    if (!this.exchanges.has(exchange)) throw new AmqpClose('NOT_FOUND', `no exchange '${exchange}' ${VHOST}`);
    if (!this.bindings.some((b) => b.queue === queue && b.exchange === exchange && b.pattern === pattern)) {
      if (this.bindings.length >= this.limits.queues * 16) throw new AmqpClose('PRECONDITION_FAILED', `binding limit of ${this.limits.queues * 16} is reached`);
      this.bindings.push({ queue, exchange, pattern });
    }
    const ghost = this.ghosts.get(queue);
    if (ghost) {
      this.ghosts.delete(queue);
      ghost.watch.rebound();
    }
  }

  unbindQueue(ch: BrokerChannel, queue: string, exchange: string, pattern: string): void {
    const q = this.queues.get(queue);
    if (q) this.checkOwner(ch, q);
    this.bindings = this.bindings.filter((b) => !(b.queue === queue && b.exchange === exchange && b.pattern === pattern));
  }

  deleteQueue(ch: BrokerChannel, name: string, options: Options.DeleteQueue | undefined): { messageCount: number } {
    this.permit(ch, 'queue', name);
    const q = this.queues.get(name);
    if (!q) return { messageCount: 0 }; // RabbitMQ: deleting an absent queue is ok
    this.checkOwner(ch, q);
    if (options?.ifUnused && q.consumers.length > 0) throw new AmqpClose('PRECONDITION_FAILED', `queue '${name}' ${VHOST} in use`);
    if (options?.ifEmpty && q.ready.length > 0) throw new AmqpClose('PRECONDITION_FAILED', `queue '${name}' ${VHOST} not empty`);
    const messageCount = q.ready.length;
    this.deleteQueueState(q);
    return { messageCount };
  }

  purgeQueue(ch: BrokerChannel, name: string): { messageCount: number } {
    const q = this.queue(name);
    this.checkOwner(ch, q);
    const messageCount = q.ready.length;
    q.ready = [];
    return { messageCount };
  }

  qos(ch: BrokerChannel, count: number): void {
    ch.prefetch = Math.max(0, Math.floor(count));
  }

  confirmSelect(ch: BrokerChannel): void {
    ch.confirm = true;
  }

  consume(ch: BrokerChannel, queue: string, options: Options.Consume | undefined): { consumerTag: string } {
    this.permit(ch, 'queue', queue);
    const q = this.queue(queue);
    this.checkOwner(ch, q);
    const exclusive = options?.exclusive ?? false;
    if (q.consumers.some((c) => c.exclusive) || (exclusive && q.consumers.length > 0)) {
      throw new AmqpClose('ACCESS_REFUSED', `queue '${queue}' ${VHOST} in exclusive use`);
    }
    const tag = options?.consumerTag || `amq.ctag-${ch.connection.id}.${ch.id}.${ch.consumers.size + 1}`;
    if (ch.consumers.has(tag)) throw new AmqpClose('NOT_ALLOWED', `attempt to reuse consumer tag '${tag}'`);
    if (ch.consumers.size >= this.limits.consumersPerChannel) {
      this.stats.refused.consumers++;
      throw new AmqpClose('RESOURCE_ERROR', `consumer limit of ${this.limits.consumersPerChannel} per channel reached`);
    }
    const consumer: Consumer = { tag, queue: q, channel: ch, exclusive, noAck: options?.noAck ?? false, prefetch: ch.prefetch, unacked: 0 };
    ch.consumers.set(tag, consumer);
    q.consumers.push(consumer);
    this.clearExpiry(q);
    this.scheduleDispatch();
    return { consumerTag: tag };
  }

  cancel(ch: BrokerChannel, consumerTag: string): { consumerTag: string } {
    const consumer = ch.consumers.get(consumerTag);
    if (consumer) this.removeConsumer(consumer);
    return { consumerTag };
  }

  publish(ch: BrokerChannel, exchange: string, routingKey: string, content: Buffer, options: Options.Publish | undefined): void {
    if (!ch.open) return;
    const c = ch.connection;
    const seq = ch.confirm ? ++ch.publishSeq : 0;
    this.stats.published++;
    try {
      this.permit(ch, 'exchange', exchange);
    } catch (err) {
      if (!(err instanceof AmqpClose)) throw err;
      this.closeChannel(ch, err);
      return;
    }
    const targets = this.route(exchange, routingKey, options);
    if (targets === undefined) {
      this.closeChannel(ch, new AmqpClose('NOT_FOUND', `no exchange '${exchange}' ${VHOST}`));
      return;
    }
    if (c.state === 'blocking') {
      // the first publish after an alarm: the connection is blocked (this frame is still handled)
      c.state = 'blocked';
      const reason = this.alarm ?? 'low on memory';
      c.wire.toClient(() => c.client.onBlocked(reason));
    }
    const properties = propertiesOf(options);
    const persistent = properties.deliveryMode === 2;
    let rejected = false;
    const accepted: StoredMessage[] = [];
    // the confirm goes out once the message is written (fsyncMs) and every quorum queue it
    // went to has a leader; a nack at once if a queue refused it
    let outstanding = 1;
    const incarnation = this.incarnation;
    const persist = () => {
      if (--outstanding > 0 || incarnation !== this.incarnation) return;
      for (const m of accepted) m.stored = true;
      if (seq === 0 || !ch.open) return;
      const ack = !rejected && !accepted.some((m) => m.lost);
      if (ack) this.stats.confirmed++;
      else this.stats.nacked++;
      c.wire.toClient(() => ch.client.onConfirm(seq, false, ack));
    };
    for (const q of targets) {
      if (this.messageCount() >= this.limits.messages) {
        this.stats.dropped['node-limit']++;
        rejected = true;
        continue;
      }
      if (q.down) {
        rejected = true; // its node is down: nothing takes it
        continue;
      }
      // an operator policy (capQueue) caps the queue as well, overflow reject-publish: the lower limit holds
      const cap = this.caps.size > 0 ? this.caps.get(q.name) : undefined;
      const maxLength = cap !== undefined ? Math.min(cap, q.maxLength ?? cap) : q.maxLength;
      if (maxLength !== undefined && q.ready.length >= maxLength) {
        if (cap !== undefined || q.overflow === 'reject-publish') {
          rejected = true;
          continue;
        }
        while (q.ready.length >= maxLength && q.ready.length > 0) this.deadLetter(q, q.ready.shift()!, 'maxlen');
        if (maxLength === 0) {
          this.deadLetter(q, this.message(exchange, routingKey, content, properties, persistent, q), 'maxlen');
          continue;
        }
      }
      const m = this.message(exchange, routingKey, content, properties, persistent, q);
      accepted.push(m);
      if (q.type === 'quorum' && q.leader === undefined) {
        outstanding++;
        q.awaitingLeader.push({ message: m, confirm: persist });
        continue;
      }
      q.ready.push(m);
      this.armTtl(q);
    }
    if (targets.length === 0) this.stats.unroutable++;
    else this.stats.routed++;
    if (this.ghosts.size > 0) this.tellGhosts(exchange, routingKey, content, options);
    this.scheduleDispatch();
    if (rejected && seq !== 0) {
      outstanding = 1;
      persist();
    } else this.clock.schedule(this.options.fsyncMs ?? 0, persist);
  }

  /** basic.ack / basic.nack / basic.reject. `requeue` undefined: an ack. */
  settle(ch: BrokerChannel, deliveryTag: number, multiple: boolean, requeue: boolean | undefined): void {
    if (!ch.open) return;
    const tags = multiple ? [...ch.unacked.keys()].filter((t) => t <= deliveryTag || deliveryTag === 0) : [deliveryTag];
    if (!multiple && !ch.unacked.has(deliveryTag)) {
      this.closeChannel(ch, new AmqpClose('PRECONDITION_FAILED', `unknown delivery tag ${deliveryTag}`));
      return;
    }
    const back = new Map<QueueState, StoredMessage[]>();
    for (const tag of tags) {
      const u = ch.unacked.get(tag)!;
      ch.unacked.delete(tag);
      this.unackedIndex.delete(u.message);
      u.consumer.unacked = Math.max(0, u.consumer.unacked - 1);
      if (u.queue.deleted) continue;
      if (requeue === undefined) this.stats.acked++;
      else if (requeue) {
        const list = back.get(u.queue) ?? [];
        list.push(u.message);
        back.set(u.queue, list);
      } else this.deadLetter(u.queue, u.message, 'rejected');
    }
    for (const [q, messages] of back) this.requeue(q, messages);
    this.scheduleDispatch();
  }

  // ---- internals -----------------------------------------------------------------------

  /** Which unacked delivery holds a message (for a crash to take them back). */
  private readonly unackedIndex = new Map<StoredMessage, QueueState>();

  private hold(c: BrokerConnection, frame: () => void): void {
    if (this.held >= this.limits.heldFrames) {
      this.stats.dropped['held-frames']++;
      return;
    }
    this.held++;
    c.held.push(frame);
  }

  private message(exchange: string, routingKey: string, content: Buffer, properties: MessageProperties, persistent: boolean, q: QueueState): StoredMessage {
    const now = this.clock.nowMs();
    const perMessage = properties.expiration === undefined ? undefined : Number(properties.expiration);
    const ttl = [q.ttlMs, perMessage].filter((t): t is number => t !== undefined && Number.isFinite(t));
    return {
      id: ++this.ids,
      exchange,
      routingKey,
      content,
      properties: { ...properties, headers: properties.headers ? { ...properties.headers } : undefined },
      persistent: persistent && q.durable,
      expiresAt: ttl.length > 0 ? now + Math.min(...ttl) : undefined,
      redelivered: false,
      stored: false,
      deliveries: 0,
      lost: false,
    };
  }

  private messageCount(): number {
    let n = this.unackedIndex.size;
    for (const q of this.queues.values()) n += q.ready.length + q.awaitingLeader.length;
    return n;
  }

  private queue(name: string): QueueState {
    const q = this.queues.get(name);
    if (!q) throw new AmqpClose('NOT_FOUND', `no queue '${name}' ${VHOST}`);
    this.checkUp(q);
    return q;
  }

  private checkUp(q: QueueState): void {
    if (q.down) throw new AmqpClose('NOT_FOUND', `home node 'rabbit@${q.home}' of durable queue '${q.name}' ${VHOST} is down or inaccessible`);
  }

  /** RabbitMQ's permission check: the user's pattern must match the resource's name. */
  private permit(ch: BrokerChannel, kind: 'queue' | 'exchange', name: string): void {
    const pattern = this.options.permissions?.[ch.connection.user];
    if (pattern === undefined) return;
    const resource = kind === 'exchange' && name === '' ? 'amq.default' : name;
    let re = this.patterns.get(pattern);
    if (!re) {
      re = new RegExp(pattern);
      if (this.patterns.size < 64) this.patterns.set(pattern, re);
    }
    if (!re.test(resource)) throw new AmqpClose('ACCESS_REFUSED', `access to ${kind} '${resource}' ${VHOST} refused for user '${ch.connection.user}'`);
  }

  private readonly patterns = new Map<string, RegExp>();

  private checkOwner(ch: BrokerChannel, q: QueueState): void {
    if (q.owner !== undefined && q.owner !== ch.connection) {
      throw new AmqpClose(
        'RESOURCE_LOCKED',
        `cannot obtain exclusive access to locked queue '${q.name}' ${VHOST}. It could be originally declared on another connection or the exclusive property value does not match that of the original declaration.`,
      );
    }
  }

  /** A publish the bindings of an operator-deleted queue would have routed there: told to its fault. */
  private tellGhosts(exchange: string, routingKey: string, content: Buffer, options: Options.Publish | undefined): void {
    const e = this.exchanges.get(exchange);
    if (!e) return;
    const keys = [routingKey, ...toKeys(options?.CC)];
    for (const ghost of this.ghosts.values()) {
      if (ghost.bindings.some((b) => b.exchange === exchange && bindingMatches(e.type, b.pattern, keys))) ghost.watch.routedNowhere(content);
    }
  }

  /** The queues a publish goes to; undefined if the exchange does not exist. */
  private route(exchange: string, routingKey: string, options: Options.Publish | undefined): QueueState[] | undefined {
    const keys = [routingKey, ...toKeys(options?.CC)];
    const names = new Set<string>();
    if (exchange === '') {
      for (const k of keys) if (this.queues.has(k)) names.add(k);
    } else {
      const e = this.exchanges.get(exchange);
      if (!e) return undefined;
      for (const b of this.bindings) {
        if (b.exchange !== exchange) continue;
        if (bindingMatches(e.type, b.pattern, keys)) names.add(b.queue);
      }
    }
    return [...names].map((n) => this.queues.get(n)!).filter((q) => q !== undefined);
  }

  /** A message dies in `q`: to the queue's dead-letter exchange with an x-death entry, or dropped (counted). */
  private deadLetter(q: QueueState, m: StoredMessage, reason: 'expired' | 'rejected' | 'maxlen'): void {
    const dlx = q.deadLetterExchange;
    if (dlx === undefined) {
      this.stats.dropped[reason]++;
      return;
    }
    const targets = this.route(dlx, q.deadLetterRoutingKey ?? m.routingKey, undefined);
    if (targets === undefined) {
      this.stats.dropped['no-dead-letter-exchange']++;
      return;
    }
    this.stats.deadLettered++;
    const headers: MessagePropertyHeaders = { ...(m.properties.headers ?? {}) };
    const deaths: XDeath[] = Array.isArray(headers['x-death']) ? headers['x-death'].map((d) => ({ ...d })) : [];
    const time = { '!': 'timestamp' as const, value: Math.floor(this.clock.nowMs() / 1000) };
    const at = deaths.findIndex((d) => d.queue === q.name && d.reason === reason);
    const entry: XDeath =
      at >= 0
        ? { ...deaths.splice(at, 1)[0], time }
        : { count: 0, reason, queue: q.name, time, exchange: m.exchange, 'routing-keys': [m.routingKey] };
    entry.count++;
    if (m.properties.expiration !== undefined) entry['original-expiration'] = m.properties.expiration;
    deaths.unshift(entry);
    headers['x-death'] = deaths;
    if (headers['x-first-death-reason'] === undefined) {
      headers['x-first-death-reason'] = reason;
      headers['x-first-death-queue'] = q.name;
      headers['x-first-death-exchange'] = m.exchange;
    }
    const properties: MessageProperties = { ...m.properties, expiration: undefined, headers };
    const routingKey = q.deadLetterRoutingKey ?? m.routingKey;
    for (const target of targets) {
      if (target === q && reason !== 'rejected' && q.deadLetterRoutingKey === undefined) continue; // a cycle: RabbitMQ drops it
      const copy = this.message(dlx, routingKey, m.content, properties, m.persistent, target);
      copy.stored = m.stored;
      target.ready.push(copy);
      this.armTtl(target);
    }
    this.scheduleDispatch();
  }

  private requeue(q: QueueState, messages: StoredMessage[]): void {
    if (messages.length === 0) return;
    this.stats.requeued += messages.length;
    for (const m of messages) m.redelivered = true;
    q.ready = [...messages, ...q.ready].sort((a, b) => a.id - b.id);
    this.armTtl(q);
  }

  private removeConsumer(consumer: Consumer): void {
    const q = consumer.queue;
    consumer.channel.consumers.delete(consumer.tag);
    const i = q.consumers.indexOf(consumer);
    if (i >= 0) q.consumers.splice(i, 1);
    if (q.consumers.length === 0) {
      q.lastUsedAt = this.clock.nowMs();
      if (q.autoDelete) {
        this.deleteQueueState(q);
        return;
      }
      this.armExpiry(q);
    }
    this.scheduleDispatch();
  }

  /** Deletes a queue: its consumers are cancelled (basic.cancel), its messages dropped. */
  private deleteQueueState(q: QueueState): void {
    this.stats.dropped['queue-deleted'] += q.ready.length + q.awaitingLeader.length;
    q.awaitingLeader = [];
    this.cancelConsumers(q);
    this.removeQueue(q);
  }

  private removeQueue(q: QueueState): void {
    q.deleted = true;
    this.clearTimers(q);
    q.ready = [];
    this.queues.delete(q.name);
    this.bindings = this.bindings.filter((b) => b.queue !== q.name);
  }

  private clearTimers(q: QueueState): void {
    this.clearExpiry(q);
    if (q.ttlTimer !== undefined) this.clock.cancel(q.ttlTimer);
    q.ttlTimer = undefined;
  }

  private clearExpiry(q: QueueState): void {
    if (q.expiryTimer !== undefined) this.clock.cancel(q.expiryTimer);
    q.expiryTimer = undefined;
  }

  /** x-expires: the queue goes once it has been unused (no consumer, no declaration) that long. */
  private armExpiry(q: QueueState): void {
    this.clearExpiry(q);
    if (q.expiresMs === undefined || q.consumers.length > 0 || !this.running) return;
    const incarnation = this.incarnation;
    q.expiryTimer = this.clock.schedule(q.expiresMs, () => {
      q.expiryTimer = undefined;
      if (incarnation !== this.incarnation || q.deleted || q.consumers.length > 0) return;
      this.stats.expiredQueues++;
      this.deleteQueueState(q);
    });
  }

  /** Message TTL: a timer for the earliest expiry in the queue (classic queues expire from the head). */
  private armTtl(q: QueueState): void {
    if (!this.running || q.ttlTimer !== undefined) return;
    let first: number | undefined;
    for (const m of q.ready) if (m.expiresAt !== undefined && (first === undefined || m.expiresAt < first)) first = m.expiresAt;
    if (first === undefined) return;
    const incarnation = this.incarnation;
    q.ttlTimer = this.clock.schedule(Math.max(0, first - this.clock.nowMs()), () => {
      q.ttlTimer = undefined;
      if (incarnation !== this.incarnation || q.deleted) return;
      this.expire(q);
      this.armTtl(q);
    });
  }

  private expire(q: QueueState): void {
    const now = this.clock.nowMs();
    const live: StoredMessage[] = [];
    for (const m of q.ready) {
      if (m.expiresAt !== undefined && m.expiresAt <= now) this.deadLetter(q, m, 'expired');
      else live.push(m);
    }
    q.ready = live;
  }

  private scheduleDispatch(): void {
    if (this.dispatchPending || !this.running) return;
    this.dispatchPending = true;
    const incarnation = this.incarnation;
    this.clock.schedule(0, () => {
      if (incarnation !== this.incarnation) return;
      this.dispatchPending = false;
      this.dispatch();
    });
  }

  /** Hands ready messages to consumers with room (prefetch), round-robin; single active consumer: the first only. */
  private dispatch(): void {
    const now = this.clock.nowMs();
    for (const q of this.queues.values()) {
      if (q.down || (q.type === 'quorum' && q.leader === undefined)) continue;
      while (q.ready.length > 0) {
        const head = q.ready[0];
        if (head.expiresAt !== undefined && head.expiresAt <= now) {
          q.ready.shift();
          this.deadLetter(q, head, 'expired');
          continue;
        }
        const eligible = q.singleActiveConsumer ? q.consumers.slice(0, 1) : q.consumers;
        const open = eligible.filter((c) => c.channel.open && (c.noAck || c.prefetch === 0 || c.unacked < c.prefetch));
        if (open.length === 0) break;
        const consumer = open[q.turn++ % open.length];
        q.ready.shift();
        this.deliver(q, consumer, head);
      }
    }
  }

  private deliver(q: QueueState, consumer: Consumer, m: StoredMessage): void {
    const ch = consumer.channel;
    const tag = ++ch.deliverySeq;
    m.deliveries++;
    const headers = q.type === 'quorum' && m.deliveries > 1 ? { ...(m.properties.headers ?? {}), 'x-delivery-count': m.deliveries - 1 } : m.properties.headers;
    const message: ConsumeMessage = {
      content: m.content,
      fields: { deliveryTag: tag, redelivered: m.redelivered, exchange: m.exchange, routingKey: m.routingKey, consumerTag: consumer.tag },
      properties: { ...m.properties, headers: headers ? cloneValue(headers) : headers },
    };
    this.stats.delivered++;
    if (m.redelivered) this.stats.redelivered++;
    if (!consumer.noAck) {
      consumer.unacked++;
      ch.unacked.set(tag, { queue: q, message: m, consumer });
      this.unackedIndex.set(m, q);
    }
    ch.connection.wire.toClient(() => ch.client.onDeliver(message));
  }

  private unackedOf(q: QueueState): StoredMessage[] {
    const out: StoredMessage[] = [];
    for (const [m, owner] of this.unackedIndex) if (owner === q) out.push(m);
    return out;
  }

  /** Unacked deliveries of `q` whose consumer is gone but whose channel still holds them. */
  private orphanUnacked(q: QueueState): number {
    const live = q.consumers.reduce((n, c) => n + c.unacked, 0);
    return Math.max(0, this.unackedOf(q).length - live);
  }
}

function toKeys(cc: string | string[] | undefined): string[] {
  if (cc === undefined) return [];
  return Array.isArray(cc) ? cc : [cc];
}

function describeArg(v: unknown): string {
  return v === undefined ? 'none' : `the value '${String(v)}' of type '${typeof v === 'number' ? 'long' : typeof v === 'boolean' ? 'bool' : 'longstr'}'`;
}
