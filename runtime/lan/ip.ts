// IPv4 helpers for discovery (runtime/lan imports nothing else of ours).
import net from 'node:net';

export const isIPv4 = (s: string): boolean => net.isIPv4(s);

function octets(ip: string): number[] | undefined {
  return net.isIPv4(ip) ? ip.split('.').map(Number) : undefined;
}

export function isLoopbackIPv4(ip: string): boolean {
  return octets(ip)?.[0] === 127;
}

/** RFC 1918: 10/8, 172.16/12, 192.168/16. */
export function isPrivateIPv4(ip: string): boolean {
  const o = octets(ip);
  if (!o) return false;
  return o[0] === 10 || (o[0] === 172 && o[1] >= 16 && o[1] <= 31) || (o[0] === 192 && o[1] === 168);
}

/** Order-preserving de-duplication. */
export function unique<T>(xs: Iterable<T>): T[] {
  return [...new Set(xs)];
}
