// Baseline (a) of the mesh benchmark: raw amqplib doing exactly the AMQP work the mesh does
// for two charts a (on broker 1) and b (on broker 2) in one process, with none of the mesh's
// own work (no Fernet, no JSON, no chart, no dedup, no outbox bookkeeping):
//   - one publishing connection per broker, shared by both sides, with one confirm channel
//     that declares the three durable topic exchanges (broker-link.ts);
//   - per side, one consuming connection to its own broker: prefetch 500, the durable
//     dead-letter exchange and queue, a durable queue with the same TTL, expiry and
//     dead-letter arguments, bound by the side's routing key, an exclusive consumer and a
//     consumer on the dead queue (receiver.ts, topology.ts);
//   - every message published to EVERY broker (the mesh topology's fan-out), persistent or
//     not as the mesh's meshDelivery, with the same properties and sender header, a body
//     of the same size as the encrypted envelope, each publish confirmed, publishing held
//     while a channel reports no room (the outbox's 'drain');
//   - manual acks, one `allUpTo` ack per turn of the event loop (ack-tracker.ts).
// Clustered (one RabbitMQ cluster): each side publishes once, through its own node, and its
// queue is the quorum queue with single active consumer that topology.ts plans for it.
// The queues are declared from the same plans as the mesh's (queuePlan, deadQueuePlan).
import { connect, type Channel, type ConfirmChannel, type ConsumeMessage } from 'amqplib';
import { DEAD_EXCHANGE, EXCHANGES, MESSAGE_TTL_MS, SENDER_HEADER, deadQueuePlan, queuePlan, type TopologyKind } from '../runtime/net/topology.ts';
import { PREFETCH } from '../runtime/net/receiver.ts';

export interface Figures {
  perSec: number;
  p50: number;
  p99: number;
  /** This process's CPU time (user + system) per event of the throughput run, in µs: steadier than wall time on a shared machine. */
  cpuUsPerEvent?: number;
  /** The same per round trip of the latency run. */
  cpuUsPerRoundTrip?: number;
}

/** CPU µs (user + system) this process has used since `from` (process.cpuUsage()). */
export const cpuUsSince = (from: NodeJS.CpuUsage): number => {
  const d = process.cpuUsage(from);
  return d.user + d.system;
};

export interface RawMeshWorkOptions {
  /** a's broker, b's broker, then the other brokers of the mesh (each gets every event), or the cluster's nodes. */
  urls: string[];
  topology: TopologyKind;
  events: number;
  roundTrips: number;
  /** Bytes of each message body (the mesh's encrypted envelope for the same payload). */
  bodyBytes: number;
  persistent: boolean;
}

/** The mesh's socket options (connection.ts): Nagle's algorithm off. */
const SOCKET = { noDelay: true };

export const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];

/** One side's consumer: what receiver.ts declares and consumes, acking once per loop turn. */
async function consumer(url: string, name: string, host: string, topology: TopologyKind, bindingKey: string, onMessage: (m: ConsumeMessage) => void) {
  const connection = await connect(url, SOCKET);
  const ch: Channel = await connection.createChannel();
  await ch.prefetch(PREFETCH);
  let last: ConsumeMessage | undefined;
  let scheduled = false;
  const ack = (m: ConsumeMessage) => {
    last = m;
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      if (last) ch.ack(last, true);
      last = undefined;
    });
  };
  const plan = queuePlan('mesh', name, host, { topology, messageTtl: MESSAGE_TTL_MS });
  const dead = deadQueuePlan(name, host, { topology });
  await ch.assertExchange(DEAD_EXCHANGE, 'direct', { durable: true });
  await ch.assertQueue(dead.name, dead.options);
  await ch.assertExchange(EXCHANGES.mesh, 'topic', { durable: true });
  await ch.assertQueue(plan.name, plan.options);
  await ch.bindQueue(plan.name, EXCHANGES.mesh, bindingKey);
  await ch.bindQueue(dead.name, DEAD_EXCHANGE, plan.name);
  await ch.consume(plan.name, (m) => {
    if (!m) return;
    onMessage(m);
    ack(m);
  }, { exclusive: plan.exclusiveConsumer });
  await ch.consume(dead.name, (m) => m && ack(m), { exclusive: dead.exclusiveConsumer });
  return {
    close: async () => {
      await ch.deleteQueue(plan.name).catch(() => undefined);
      await ch.deleteQueue(dead.name).catch(() => undefined);
      await connection.close();
    },
  };
}

/** One publishing connection and confirm channel per broker, both sides' events through them. */
async function publisher(url: string) {
  const connection = await connect(url, SOCKET);
  const ch: ConfirmChannel = await connection.createConfirmChannel();
  for (const exchange of Object.values(EXCHANGES)) await ch.assertExchange(exchange, 'topic', { durable: true });
  let room = true;
  const waiting: Array<() => void> = [];
  ch.on('drain', () => {
    room = true;
    for (const w of waiting.splice(0)) w();
  });
  return { ch, connection, hasRoom: () => room, setFull: () => (room = false), whenRoom: () => new Promise<void>((r) => waiting.push(r)) };
}

export async function benchRawMeshWork(o: RawMeshWorkOptions): Promise<Figures> {
  const tag = Math.random().toString(16).slice(2, 8);
  const clustered = o.topology === 'clustered';
  // mesh: one link per broker, shared by both sides; clustered: each side's own link to its node
  const pubs = await Promise.all((clustered ? o.urls.slice(0, 2) : o.urls).map(publisher));
  const hosts = o.urls.slice(0, 2).map((u) => new URL(u).hostname);
  const body = Buffer.alloc(o.bodyBytes, 0x41);
  const options = (sender: string) => ({
    persistent: o.persistent,
    contentType: 'application/octet-stream',
    appId: 'miros-rabbitmq',
    headers: { [SENDER_HEADER]: sender },
  });
  const aOptions = options(`raw-a-${tag}@a`);
  const bOptions = options(`raw-b-${tag}@b`);
  let confirmed = 0;
  const onConfirm = (err: unknown) => {
    if (!err) confirmed++;
  };
  /** Publishes to every broker (clustered: once, through the side's node); resolves once they have room again (as the outbox waits). */
  const publishFrom = async (side: 0 | 1, routingKey: string, props: ReturnType<typeof options>) => {
    const targets = clustered ? [pubs[side]] : pubs;
    for (const p of targets) {
      if (!p.ch.publish(EXCHANGES.mesh, routingKey, body, props, onConfirm)) p.setFull();
    }
    for (const p of targets) if (!p.hasRoom()) await p.whenRoom();
  };

  let received = 0;
  let allIn!: () => void;
  const allReceived = new Promise<void>((r) => (allIn = r));
  let pingMode = false;
  let pong!: () => void;
  // routing keys of this run alone (as the mesh side's): two runs on the same brokers do not hear each other
  const [toA, toB] = [`to.a.${tag}`, `to.b.${tag}`];
  const b = await consumer(o.urls[1], `raw-b-${tag}`, hosts[1], o.topology, toB, () => {
    if (pingMode) void publishFrom(1, toA, bOptions);
    else if (++received === o.events) allIn();
  });
  const a = await consumer(o.urls[0], `raw-a-${tag}`, hosts[0], o.topology, toA, () => pong());
  try {
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < o.events; i++) await publishFrom(0, toB, aOptions);
    await allReceived;
    const perSec = o.events / ((performance.now() - t0) / 1000);
    const cpuUsPerEvent = cpuUsSince(cpu0) / o.events;
    pingMode = true;
    const cpu1 = process.cpuUsage();
    const rtts: number[] = [];
    for (let i = 0; i < o.roundTrips; i++) {
      const t = performance.now();
      await new Promise<void>((r) => {
        pong = r;
        void publishFrom(0, toB, aOptions);
      });
      rtts.push(performance.now() - t);
    }
    const cpuUsPerRoundTrip = cpuUsSince(cpu1) / o.roundTrips;
    rtts.sort((x, y) => x - y);
    return { perSec, p50: percentile(rtts, 50), p99: percentile(rtts, 99), cpuUsPerEvent, cpuUsPerRoundTrip };
  } finally {
    // as the mesh's stop() waits for its outboxes: every publish confirmed before closing
    await Promise.all(pubs.map((p) => p.ch.waitForConfirms().catch(() => undefined)));
    await Promise.all([a.close(), b.close()]);
    await Promise.all(pubs.map((p) => p.connection.close()));
    const published = (clustered ? 1 : pubs.length) * (o.events + 2 * o.roundTrips); // every message to every broker, or once
    if (confirmed !== published) console.error(`raw mesh work: ${confirmed} confirms for ${published} publishes (the comparison is off)`);
  }
}
