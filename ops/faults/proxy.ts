// A userspace TCP proxy with toxics (after toxiproxy's), for kernels without netem: it
// relays client ↔ upstream and applies, per client source address, one toxic at a time:
//   latency   every chunk held ms (± jitter) in each direction, order kept
//   bandwidth each direction paced to kbit/s
//   stall     nothing moves (sockets stay open) until the toxic goes
//   reset     every connection from that source is reset, and new ones at once
// A TCP proxy cannot drop packets: `loss` needs netem and is refused here.
// (Design note §4, step 8: the broker moved behind it at `cluster up --toxics` is to come.)
import { type Server, type Socket, createServer, connect } from 'node:net';
import { UnsupportedError } from '../cluster/errors.ts';

export type Toxic =
  | { kind: 'latency'; ms: number; jitterMs?: number }
  | { kind: 'bandwidth'; kbitPerS: number }
  | { kind: 'stall' }
  | { kind: 'reset' }
  | { kind: 'loss'; percent: number };

export interface ProxyOptions {
  listen: { host: string; port: number };
  upstream: { host: string; port: number };
}

/** One direction of one connection: chunks released in order, when the toxic lets them. */
class Pacer {
  private readonly queue: Array<{ chunk: Buffer; due: number }> = [];
  private timer: NodeJS.Timeout | undefined;
  private nextFree = 0; // bandwidth: when the line is free again

  constructor(
    private readonly to: Socket,
    private readonly toxic: () => Toxic | undefined,
  ) {}

  push(chunk: Buffer): void {
    const t = this.toxic();
    const now = Date.now();
    let due = now;
    if (t?.kind === 'latency') due = now + t.ms + (t.jitterMs ? Math.round((Math.random() * 2 - 1) * t.jitterMs) : 0);
    if (t?.kind === 'bandwidth') {
      const start = Math.max(now, this.nextFree);
      this.nextFree = start + (chunk.length * 8) / t.kbitPerS; // kbit/s = bit/ms
      due = this.nextFree;
    }
    // order kept: never before the chunk ahead of it
    const last = this.queue.at(-1);
    this.queue.push({ chunk, due: last ? Math.max(due, last.due) : due });
    this.pump();
  }

  /** Releases what is due (nothing while stalled); re-armed when the toxic changes. */
  pump(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.toxic()?.kind === 'stall') return;
    const now = Date.now();
    while (this.queue.length && this.queue[0].due <= now) {
      const { chunk } = this.queue.shift()!;
      if (!this.to.destroyed) this.to.write(chunk);
    }
    if (this.queue.length) this.timer = setTimeout(() => this.pump(), this.queue[0].due - now);
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.queue.length = 0;
  }
}

interface Link {
  source: string;
  client: Socket;
  upstream: Socket;
  pacers: Pacer[];
}

export class ToxicProxy {
  private server: Server | undefined;
  private readonly links = new Set<Link>();
  /** Toxic per client source address; '*' for every source. */
  private readonly toxics = new Map<string, Toxic>();
  /** Connections relayed, and reset by a `reset` toxic. */
  readonly counters = { connections: 0, resets: 0 };

  constructor(private readonly o: ProxyOptions) {}

  get address(): { host: string; port: number } {
    const a = this.server?.address();
    return a && typeof a === 'object' ? { host: a.address, port: a.port } : this.o.listen;
  }

  toxicFor(source: string): Toxic | undefined {
    return this.toxics.get(source) ?? this.toxics.get('*');
  }

  /** Sets (or with undefined removes) the toxic for connections from `from` (default: every source). */
  set(toxic: Toxic | undefined, from = '*'): void {
    if (toxic?.kind === 'loss') throw new UnsupportedError('loss needs netem: a TCP proxy cannot drop packets, only delay, throttle, stall or reset a stream', 'use a kernel with sch_netem, or latency/stall/reset instead');
    if (toxic) this.toxics.set(from, toxic);
    else this.toxics.delete(from);
    for (const l of [...this.links]) {
      if (from !== '*' && l.source !== from) continue;
      if (this.toxicFor(l.source)?.kind === 'reset') this.reset(l);
      else l.pacers.forEach((p) => p.pump());
    }
  }

  private reset(l: Link): void {
    this.counters.resets++;
    this.links.delete(l);
    l.pacers.forEach((p) => p.close());
    l.client.resetAndDestroy();
    l.upstream.destroy();
  }

  async start(): Promise<void> {
    this.server = createServer((client) => this.accept(client));
    await new Promise<void>((res, rej) => {
      this.server!.once('error', rej);
      this.server!.listen(this.o.listen.port, this.o.listen.host, () => res());
    });
  }

  private accept(client: Socket): void {
    const source = (client.remoteAddress ?? '').replace(/^::ffff:/, '');
    this.counters.connections++;
    const upstream = connect(this.o.upstream.port, this.o.upstream.host);
    const toxic = () => this.toxicFor(source);
    const l: Link = { source, client, upstream, pacers: [new Pacer(upstream, toxic), new Pacer(client, toxic)] };
    this.links.add(l);
    if (toxic()?.kind === 'reset') return this.reset(l);
    client.on('data', (b: Buffer) => l.pacers[0].push(b));
    upstream.on('data', (b: Buffer) => l.pacers[1].push(b));
    const end = () => {
      if (!this.links.delete(l)) return;
      l.pacers.forEach((p) => p.close());
      client.destroy();
      upstream.destroy();
    };
    for (const s of [client, upstream]) {
      s.on('error', end);
      s.on('close', end);
    }
  }

  /** Resets every relayed connection (the clients hear it at once, as from a broker gone) and stops listening. */
  async stop(): Promise<void> {
    for (const l of [...this.links]) {
      l.pacers.forEach((p) => p.close());
      l.client.resetAndDestroy();
      l.upstream.destroy();
    }
    this.links.clear();
    await new Promise<void>((res) => (this.server ? this.server.close(() => res()) : res()));
  }
}
