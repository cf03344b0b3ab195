import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultRouteInterface, localAddresses, sourceAddressFor, thisAddress } from '../../runtime/lan/address.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'miros-addr-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ROUTE = `Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
wlan0\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0
eth0\t00000000\t010200C0\t0003\t0\t0\t100\t00000000\t0\t0\t0
eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
`;
const iface = (address: string, internal = false) => ({
  address,
  netmask: '255.255.255.0',
  family: 'IPv4' as const,
  mac: '02:00:00:00:00:01',
  internal,
  cidr: `${address}/24`,
});
const interfaces = {
  lo: [iface('127.0.0.1', true)],
  wlan0: [iface('192.168.1.20')],
  eth0: [{ ...iface('fe80::1'), family: 'IPv6' as const, scopeid: 2 }, iface('192.0.2.7')],
};

describe('thisAddress', () => {
  it('an explicit address wins', async () => {
    expect(await thisAddress({ explicit: ' 127.0.0.11 ', peers: ['127.0.0.12'] })).toBe('127.0.0.11');
  });

  it('uses the interface that routes to the peers (loopback peers → loopback)', async () => {
    expect(await thisAddress({ peers: ['not-an-ip', '127.0.0.12'] })).toBe('127.0.0.1');
    expect(await sourceAddressFor('127.0.0.13')).toBe('127.0.0.1');
  });

  it('without peers, takes the default route with the lowest metric', async () => {
    const routePath = path.join(dir, 'route');
    writeFileSync(routePath, ROUTE);
    expect(defaultRouteInterface(ROUTE)).toBe('eth0');
    expect(await thisAddress({ routePath, interfaces })).toBe('192.0.2.7');
  });

  it('falls back to any external interface, then 127.0.0.1', async () => {
    const routePath = path.join(dir, 'no-route');
    writeFileSync(routePath, ROUTE.split('\n')[0] + '\n');
    expect(await thisAddress({ routePath, interfaces })).toBe('192.168.1.20');
    expect(await thisAddress({ routePath: path.join(dir, 'absent'), interfaces: { lo: [iface('127.0.0.1', true)] } })).toBe('127.0.0.1');
  });

  it('on this machine, finds some IPv4 address', async () => {
    expect(await thisAddress()).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
  });

  it('lists local addresses', () => {
    expect(localAddresses(interfaces)).toEqual(['127.0.0.1', '192.168.1.20', '192.0.2.7']);
    expect(localAddresses()).toContain('127.0.0.1');
  });
});
