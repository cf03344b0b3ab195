// This host's address: the explicit option, else the address of the interface that routes to
// the peers (UDP connect(): a route lookup, no packet is sent), else the default route's
// interface, else the first non-internal IPv4 interface, else 127.0.0.1.
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { isIPv4 } from './ip.ts';

export const FALLBACK_ADDRESS = '127.0.0.1';

type Interfaces = ReturnType<typeof os.networkInterfaces>;

export interface ThisAddressOptions {
  explicit?: string;
  /** Other hosts; the first IPv4 literal with a route decides. Host names are not resolved. */
  peers?: string[];
  /** For tests: the routing table (default /proc/net/route) and interface list. */
  routePath?: string;
  interfaces?: Interfaces;
}

/** The local address the kernel would use to reach `peer` (no packet is sent); undefined if no route. */
export function sourceAddressFor(peer: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket('udp4');
    const done = (addr: string | undefined) => {
      try {
        socket.close();
      } catch {
        /* already closed */
      }
      resolve(addr);
    };
    socket.once('error', () => done(undefined));
    try {
      socket.connect(9, peer, () => {
        try {
          done(socket.address().address);
        } catch {
          done(undefined);
        }
      });
    } catch {
      done(undefined);
    }
  });
}

/** The interface named by the default route in a /proc/net/route text. */
export function defaultRouteInterface(routeText: string): string | undefined {
  let best: { iface: string; metric: number } | undefined;
  for (const line of routeText.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const [iface, destination, , flags, , , metric, mask] = f;
    const up = (Number.parseInt(flags, 16) & 0x1) !== 0;
    if (destination === '00000000' && mask === '00000000' && up) {
      const m = Number.parseInt(metric, 10);
      if (!best || m < best.metric) best = { iface, metric: m };
    }
  }
  return best?.iface;
}

function ipv4Of(interfaces: Interfaces, name: string): string | undefined {
  return interfaces[name]?.find((a) => a.family === 'IPv4' && !a.internal)?.address;
}

export async function thisAddress(opts: ThisAddressOptions = {}): Promise<string> {
  const explicit = opts.explicit?.trim();
  if (explicit) return explicit;
  for (const peer of opts.peers ?? []) {
    if (!isIPv4(peer)) continue;
    const addr = await sourceAddressFor(peer);
    if (addr && addr !== '0.0.0.0') return addr;
  }
  const interfaces = opts.interfaces ?? os.networkInterfaces();
  let routeText = '';
  try {
    routeText = readFileSync(opts.routePath ?? '/proc/net/route', 'utf8');
  } catch {
    /* not Linux */
  }
  const iface = defaultRouteInterface(routeText);
  const viaRoute = iface ? ipv4Of(interfaces, iface) : undefined;
  if (viaRoute) return viaRoute;
  for (const name of Object.keys(interfaces)) {
    const a = ipv4Of(interfaces, name);
    if (a) return a;
  }
  return FALLBACK_ADDRESS;
}

/** Every IPv4 address of this machine's interfaces (internal ones included). */
export function localAddresses(interfaces: Interfaces = os.networkInterfaces()): string[] {
  return Object.values(interfaces).flatMap((list) => (list ?? []).filter((a) => a.family === 'IPv4').map((a) => a.address));
}
