import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { probeAmqp } from '../../runtime/lan/probe.ts';

// Loopback only: fake servers on 127.0.0.1, no broker needed.
const creds = { user: 'peter', password: 'rabbit' };

async function withServer(onConnection: (s: net.Socket) => void, fn: (port: number) => Promise<void>) {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    onConnection(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    await fn((server.address() as net.AddressInfo).port);
  } finally {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  }
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

describe('probeAmqp (no broker)', () => {
  it('nothing listening: not ok, quickly', async () => {
    const port = await freePort();
    const t = Date.now();
    const r = await probeAmqp('127.0.0.1', { ...creds, port, timeoutMs: 2000 });
    expect(r.ok).toBe(false);
    expect(r.reason).toMatch(/refused/);
    expect(Date.now() - t).toBeLessThan(1000);
  });

  it('a server that never answers: not ok after the timeout', async () => {
    await withServer(() => {}, async (port) => {
      const t = Date.now();
      const r = await probeAmqp('127.0.0.1', { ...creds, port, timeoutMs: 300 });
      expect(r).toEqual({ ok: false, reason: 'timed out after 300 ms' });
      expect(Date.now() - t).toBeLessThan(1500);
    });
  });

  it('a server that is not AMQP: not ok, with a reason', async () => {
    await withServer((s) => s.end('HTTP/1.1 400 Bad Request\r\n\r\n'), async (port) => {
      const r = await probeAmqp('127.0.0.1', { ...creds, port, timeoutMs: 1000 });
      expect(r.ok).toBe(false);
      expect(r.reason).toBeTruthy();
    });
  });
});
