// The toxic TCP proxy on a real TCP echo server (loopback): passthrough, latency in both
// directions, stall keeps the socket and delivers later, reset cuts a source and new ones,
// per-source toxics, loss refused.
import { type AddressInfo, type Server, type Socket, connect, createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UnsupportedError } from '../../ops/cluster/errors.ts';
import { ToxicProxy } from '../../ops/faults/proxy.ts';

let echo: Server;
let proxy: ToxicProxy;

beforeAll(async () => {
  echo = createServer((s) => s.pipe(s));
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => r()));
  proxy = new ToxicProxy({ listen: { host: '127.0.0.1', port: 0 }, upstream: { host: '127.0.0.1', port: (echo.address() as AddressInfo).port } });
  await proxy.start();
});
afterAll(async () => {
  await proxy.stop();
  await new Promise((r) => echo.close(r));
});

function client(): Promise<Socket> {
  return new Promise((res, rej) => {
    const s = connect(proxy.address.port, '127.0.0.1', () => res(s));
    s.once('error', rej);
  });
}

/** Sends `text`, resolves with the ms until all of it came back. */
function roundTrip(s: Socket, text: string): Promise<number> {
  const t0 = Date.now();
  let got = '';
  return new Promise((res, rej) => {
    const onData = (b: Buffer) => {
      got += b.toString();
      if (got.length >= text.length) {
        s.off('data', onData);
        expect(got).toBe(text);
        res(Date.now() - t0);
      }
    };
    s.on('data', onData);
    s.once('error', rej);
    s.write(text);
  });
}

describe('ToxicProxy', () => {
  it('relays both ways untouched without a toxic', async () => {
    const s = await client();
    expect(await roundTrip(s, 'hello')).toBeLessThan(1000);
    s.destroy();
  });

  it('latency delays each direction (≥ 2 × ms for a round trip), order kept', async () => {
    proxy.set({ kind: 'latency', ms: 150 });
    const s = await client();
    expect(await roundTrip(s, 'abcdefghij'.repeat(100))).toBeGreaterThanOrEqual(295);
    proxy.set(undefined);
    expect(await roundTrip(s, 'fast')).toBeLessThan(150);
    s.destroy();
  });

  it('stall holds the bytes on an open socket; they arrive when the stall goes', async () => {
    const s = await client();
    proxy.set({ kind: 'stall' });
    const back = roundTrip(s, 'held');
    const early = await Promise.race([back.then(() => 'arrived'), new Promise((r) => setTimeout(r, 300, 'held'))]);
    expect(early).toBe('held');
    expect(s.destroyed).toBe(false);
    proxy.set(undefined);
    await back;
    s.destroy();
  });

  it('reset cuts the open connections of that source and refuses new ones until removed', async () => {
    const s = await client();
    const closed = new Promise((r) => s.once('close', r));
    s.on('error', () => undefined); // ECONNRESET
    const before = proxy.counters.resets;
    proxy.set({ kind: 'reset' }, '127.0.0.1');
    await closed;
    const t = await client().catch(() => undefined);
    if (t) await new Promise((r) => (t.on('error', () => undefined), t.once('close', r)));
    expect(proxy.counters.resets).toBeGreaterThanOrEqual(before + 2);
    proxy.set(undefined, '127.0.0.1');
    const u = await client();
    expect(await roundTrip(u, 'back')).toBeLessThan(1000);
    u.destroy();
  });

  it('a toxic for another source leaves this one alone; loss is refused (netem only)', async () => {
    proxy.set({ kind: 'stall' }, '10.9.9.9');
    const s = await client();
    expect(await roundTrip(s, 'free')).toBeLessThan(1000);
    proxy.set(undefined, '10.9.9.9');
    s.destroy();
    expect(() => proxy.set({ kind: 'loss', percent: 5 })).toThrow(UnsupportedError);
  });
});
