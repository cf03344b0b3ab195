// Baseline (a) of the mesh benchmark: raw amqplib doing exactly the AMQP work the mesh does
// for two charts a (on broker 1) and b (on broker 2) in one process, with none of the mesh's
// own work (no Fernet, no JSON, no chart, no dedup, no outbox bookkeeping):
//   - one publishing connection per broker, shared by both sides, with one confirm channel
//     that declares the three durable topic exchanges (broker-link.ts);
//   - per side, one consuming connection to its own broker: prefetch 500, the durable
//     dead-letter exchange and queue, a durable queue with the same TTL, expiry and
//     dead-letter arguments, bound by the side's routing key, an exclusive consumer and a
//     consumer on the dead queue (receiver.ts, topology.ts);
//   - every message published to BOTH brokers (the mesh topology's fan-out), persistent or
//     not as the mesh's meshDelivery, with the same properties and sender header, a body
//     of the same size as the encrypted envelope, each publish confirmed, publishing held
//     while a channel reports no room (the outbox's 'drain');
//   - manual acks, one `allUpTo` ack per turn of the event loop (ack-tracker.ts).
import { connect, type Channel, type ConfirmChannel, type ConsumeMessage } from 'amqplib';
import { DEAD_EXCHANGE, EXCHANGES, MESSAGE_TTL_MS, QUEUE_EXPIRES_MS, SENDER_HEADER } from '../runtime/net/topology.ts';
import { PREFETCH } from '../runtime/net/receiver.ts';

export interface Figures {
  perSec: number;
  p50: number;
  p99: number;
}

export interface RawMeshWorkOptions {
  urls: [string, string];
  events: number;
  roundTrips: number;
  /** Bytes of each message body (the mesh's encrypted envelope for the same payload). */
  bodyBytes: number;
  persistent: boolean;
}

export const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];

/** One side's consumer: what receiver.ts declares and consumes, acking once per loop turn. */
async function consumer(url: string, name: string, bindingKey: string, onMessage: (m: ConsumeMessage) => void) {
  const connection = await connect(url);
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
  const queue = `miros.mesh.${name}`;
  const dead = `miros.dead.${name}`;
  await ch.assertExchange(DEAD_EXCHANGE, 'direct', { durable: true });
  await ch.assertQueue(dead, { durable: true, arguments: { 'x-expires': QUEUE_EXPIRES_MS } });
  await ch.assertExchange(EXCHANGES.mesh, 'topic', { durable: true });
  await ch.assertQueue(queue, {
    durable: true,
    arguments: { 'x-message-ttl': MESSAGE_TTL_MS, 'x-expires': QUEUE_EXPIRES_MS, 'x-dead-letter-exchange': DEAD_EXCHANGE, 'x-dead-letter-routing-key': queue },
  });
  await ch.bindQueue(queue, EXCHANGES.mesh, bindingKey);
  await ch.bindQueue(dead, DEAD_EXCHANGE, queue);
  await ch.consume(queue, (m) => {
    if (!m) return;
    onMessage(m);
    ack(m);
  }, { exclusive: true });
  await ch.consume(dead, (m) => m && ack(m));
  return {
    close: async () => {
      await ch.deleteQueue(queue).catch(() => undefined);
      await ch.deleteQueue(dead).catch(() => undefined);
      await connection.close();
    },
  };
}

/** One publishing connection and confirm channel per broker, both sides' events through them. */
async function publisher(url: string) {
  const connection = await connect(url);
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
  const pubs = await Promise.all(o.urls.map(publisher));
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
  /** Publishes to both brokers; resolves once both channels have room again (as the outbox waits). */
  const fanOut = async (routingKey: string, props: ReturnType<typeof options>) => {
    for (const p of pubs) {
      if (!p.ch.publish(EXCHANGES.mesh, routingKey, body, props, onConfirm)) p.setFull();
    }
    for (const p of pubs) if (!p.hasRoom()) await p.whenRoom();
  };

  let received = 0;
  let allIn!: () => void;
  const allReceived = new Promise<void>((r) => (allIn = r));
  let pingMode = false;
  let pong!: () => void;
  const b = await consumer(o.urls[1], `raw-b-${tag}`, 'to.b', () => {
    if (pingMode) void fanOut('to.a', bOptions);
    else if (++received === o.events) allIn();
  });
  const a = await consumer(o.urls[0], `raw-a-${tag}`, 'to.a', () => pong());
  try {
    const t0 = performance.now();
    for (let i = 0; i < o.events; i++) await fanOut('to.b', aOptions);
    await allReceived;
    const perSec = o.events / ((performance.now() - t0) / 1000);
    pingMode = true;
    const rtts: number[] = [];
    for (let i = 0; i < o.roundTrips; i++) {
      const t = performance.now();
      await new Promise<void>((r) => {
        pong = r;
        void fanOut('to.b', aOptions);
      });
      rtts.push(performance.now() - t);
    }
    rtts.sort((x, y) => x - y);
    return { perSec, p50: percentile(rtts, 50), p99: percentile(rtts, 99) };
  } finally {
    // as the mesh's stop() waits for its outboxes: every publish confirmed before closing
    await Promise.all(pubs.map((p) => p.ch.waitForConfirms().catch(() => undefined)));
    await Promise.all([a.close(), b.close()]);
    await Promise.all(pubs.map((p) => p.connection.close()));
    const published = 2 * (o.events + 2 * o.roundTrips); // every message to both brokers
    if (confirmed !== published) console.error(`raw mesh work: ${confirmed} confirms for ${published} publishes (the comparison is off)`);
  }
}
