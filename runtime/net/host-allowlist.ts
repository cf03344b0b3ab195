// Which hosts learnt from mesh messages may be linked to. A link logs in with the broker
// credentials (in cleartext without TLS), so a host named by message content is used only if
// it lies in this allowlist; hosts from the options, the hosts file, the cluster file and
// discovery were chosen and are not checked here. The default is the subnets of this host's
// own interfaces (where the LAN peers that ARP discovery finds live), loopback included.
import net from 'node:net';
import os from 'node:os';

type Interfaces = ReturnType<typeof os.networkInterfaces>;

/** One IPv4 range: the address as a 32-bit number and its prefix length. */
interface Range {
  base: number;
  bits: number;
  text: string;
}

/** The word in learnHostsFrom that stands for this host's interface subnets. */
export const INTERFACES = 'interfaces';

const toNumber = (ip: string): number => ip.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
const maskOf = (bits: number): number => (bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0);

function parseRange(entry: string): Range {
  const [ip, prefix, extra] = entry.trim().split('/');
  const bits = prefix === undefined ? 32 : Number(prefix);
  if (extra !== undefined || !net.isIPv4(ip) || !Number.isInteger(bits) || bits < 0 || bits > 32 || (prefix !== undefined && !/^\d+$/.test(prefix))) {
    throw new TypeError(`learnHostsFrom: ${JSON.stringify(entry)} is not an IPv4 address, an IPv4 CIDR range (10.0.0.0/8) or "${INTERFACES}"`);
  }
  const base = (toNumber(ip) & maskOf(bits)) >>> 0;
  return { base, bits, text: `${[24, 16, 8, 0].map((shift) => (base >>> shift) & 255).join('.')}/${bits}` };
}

/** The IPv4 subnets of this host's interfaces (cidr as the OS reports it). */
export function interfaceRanges(interfaces: Interfaces = os.networkInterfaces()): string[] {
  const out: string[] = [];
  for (const list of Object.values(interfaces)) {
    for (const a of list ?? []) if (a.family === 'IPv4' && a.cidr) out.push(a.cidr);
  }
  return out;
}

export class HostAllowlist {
  private readonly ranges: Range[];

  /**
   * @param entries IPv4 addresses, CIDR ranges, and INTERFACES
   * @param interfaces the host's interfaces for INTERFACES (or what lists them; default os.networkInterfaces())
   * @throws TypeError naming the entry that is not one of these
   */
  constructor(entries: readonly string[], interfaces?: Interfaces | (() => Interfaces)) {
    // read only when "interfaces" is listed (a host with many interfaces takes a while to list them)
    const expanded = entries.flatMap((e) => (e.trim() === INTERFACES ? interfaceRanges(typeof interfaces === 'function' ? interfaces() : interfaces) : [e]));
    this.ranges = expanded.map(parseRange);
  }

  /** True if `host` is an IPv4 address inside one of the ranges (a host name never is: it could resolve anywhere). */
  allows(host: string): boolean {
    if (!net.isIPv4(host)) return false;
    const n = toNumber(host);
    return this.ranges.some((r) => ((n & maskOf(r.bits)) >>> 0) === r.base);
  }

  describe(): string {
    return this.ranges.length === 0 ? 'nothing (learnHostsFrom: [])' : this.ranges.map((r) => r.text).join(', ');
  }
}
