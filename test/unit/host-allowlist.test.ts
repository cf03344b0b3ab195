// Which hosts named by mesh messages may be linked to (host-allowlist.ts).
import { describe, expect, it } from 'vitest';
import { HostAllowlist, interfaceRanges } from '../../runtime/net/host-allowlist.ts';

const interfaces = {
  lo: [{ address: '127.0.0.1', netmask: '255.0.0.0', family: 'IPv4', mac: '00:00:00:00:00:00', internal: true, cidr: '127.0.0.1/8' }],
  eth0: [
    { address: '192.168.1.50', netmask: '255.255.255.0', family: 'IPv4', mac: '02:00:00:00:00:01', internal: false, cidr: '192.168.1.50/24' },
    { address: 'fe80::1', netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6', mac: '02:00:00:00:00:01', internal: false, cidr: 'fe80::1/64', scopeid: 2 },
  ],
} as const;
type Interfaces = Parameters<typeof interfaceRanges>[0];

describe('HostAllowlist', () => {
  it('by default (interfaces) allows the subnets of this host, loopback included, and nothing else', () => {
    const list = new HostAllowlist(['interfaces'], interfaces as unknown as Interfaces);
    expect(list.allows('192.168.1.77')).toBe(true);
    expect(list.allows('127.0.0.77')).toBe(true);
    expect(list.allows('192.168.2.1')).toBe(false);
    expect(list.allows('10.0.0.1')).toBe(false);
    expect(list.describe()).toBe('127.0.0.0/8, 192.168.1.0/24');
  });

  it('never allows a host name (it could resolve anywhere) nor an IPv6 address', () => {
    const list = new HostAllowlist(['0.0.0.0/0']);
    expect(list.allows('10.1.2.3')).toBe(true);
    expect(list.allows('evil.example')).toBe(false);
    expect(list.allows('::1')).toBe(false);
  });

  it('narrows to single addresses, widens with ranges, and [] allows nothing', () => {
    const list = new HostAllowlist(['10.9.0.0/16', '172.16.5.5']);
    expect(list.allows('10.9.200.1')).toBe(true);
    expect(list.allows('10.10.0.1')).toBe(false);
    expect(list.allows('172.16.5.5')).toBe(true);
    expect(list.allows('172.16.5.6')).toBe(false);
    expect(new HostAllowlist([]).allows('127.0.0.1')).toBe(false);
  });

  it('rejects an entry that is neither an address nor a range, naming it', () => {
    expect(() => new HostAllowlist(['10.0.0.0/33'])).toThrow(/"10.0.0.0\/33" is not/);
    expect(() => new HostAllowlist(['lan'])).toThrow(/"lan"/);
    expect(() => new HostAllowlist(['10.0.0.0/8/1'])).toThrow(TypeError);
  });
});
