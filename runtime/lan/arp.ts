// The kernel's ARP table (/proc/net/arp):
// IP address       HW type     Flags       HW address            Mask     Device
// 192.168.1.1      0x1         0x2         00:11:22:33:44:55     *        eth0
import { readFileSync } from 'node:fs';
import { isIPv4, isPrivateIPv4, unique } from './ip.ts';

export const DEFAULT_ARP_PATH = '/proc/net/arp';
const ATF_COM = 0x2; // entry complete
const NO_MAC = '00:00:00:00:00:00';

export interface ArpEntry {
  ip: string;
  hwType: number;
  flags: number;
  mac: string;
  device: string;
}

/** Every well-formed IPv4 row of an ARP table text (header and junk lines skipped). */
export function parseArpTable(text: string): ArpEntry[] {
  const entries: ArpEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 6 || !isIPv4(f[0])) continue;
    const hwType = Number.parseInt(f[1], 16);
    const flags = Number.parseInt(f[2], 16);
    if (Number.isNaN(hwType) || Number.isNaN(flags)) continue;
    entries.push({ ip: f[0], hwType, flags, mac: f[3].toLowerCase(), device: f[5] });
  }
  return entries;
}

/**
 * Addresses worth probing: complete entries (flag 0x2) with a real MAC, accepted by `accept`
 * (default: RFC 1918 private ranges), de-duplicated in table order.
 */
export function arpCandidates(text: string, accept: (ip: string) => boolean = isPrivateIPv4): string[] {
  return unique(
    parseArpTable(text)
      .filter((e) => (e.flags & ATF_COM) !== 0 && e.mac !== NO_MAC && accept(e.ip))
      .map((e) => e.ip),
  );
}

/** Reads the ARP table; '' if it cannot be read (not Linux, no /proc). */
export function readArpTable(arpPath: string = DEFAULT_ARP_PATH): string {
  try {
    return readFileSync(arpPath, 'utf8');
  } catch {
    return '';
  }
}
