// Bad input loses nothing and stops nothing: ≥ 10,000 random and mutated bodies thrown
// at a running node through its own broker, then a good event must still arrive.
import { connect } from 'amqplib';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { Event, Fernet, generateKey } from '../../runtime/index.ts';
import { decodeEnvelope, encodeEnvelope } from '../../runtime/net/envelope.ts';
import { EXCHANGES } from '../../runtime/net/topology.ts';
import { waitFor } from '../../ops/util/wait.ts';
import { MESH_KEY, brokers, idle, makeNode, stopCreated, type Recorder } from './net-helpers.ts';

function bodies(): Buffer[] {
  const good = new Fernet(MESH_KEY);
  const other = new Fernet(generateKey());
  const envelope = (payload: unknown) => ({ sender: 'fuzzer', host: '127.0.0.99', seq: 1, ts: Date.now(), signal: 'FUZZ', payload, net: 'mesh', rk: 'fuzz.man' }); // bound to where it is published (SECURITY.md)
  const valid = encodeEnvelope(good, envelope({ n: 1 }));
  const out: Buffer[] = [];
  // random bytes
  for (const bytes of fc.sample(fc.uint8Array({ minLength: 0, maxLength: 400 }), { numRuns: 4000, seed: 1 })) out.push(Buffer.from(bytes));
  // a valid token, mutated: flipped bytes, truncated, extended
  const mutations = fc.sample(
    fc.tuple(fc.nat({ max: valid.length - 1 }), fc.integer({ min: 1, max: 255 }), fc.constantFrom('flip', 'cut', 'grow')),
    { numRuns: 3000, seed: 2 },
  );
  for (const [at, x, how] of mutations) {
    const b = Buffer.from(valid);
    if (how === 'flip') b[at] ^= x;
    out.push(how === 'cut' ? b.subarray(0, at) : how === 'grow' ? Buffer.concat([b, Buffer.from([x])]) : b);
  }
  // right key, wrong plaintext: not JSON, JSON of the wrong shape, unknown version
  for (const text of fc.sample(fc.string({ maxLength: 60 }), { numRuns: 1000, seed: 3 })) {
    out.push(Buffer.from(good.encrypt(`not json ${text}`)));
  }
  for (const v of fc.sample(fc.jsonValue(), { numRuns: 500, seed: 4 })) out.push(Buffer.from(good.encrypt(JSON.stringify(v))));
  for (let i = 0; i < 495; i++) out.push(Buffer.from(good.encrypt(JSON.stringify({ ...envelope(i), v: 2 + i }))));
  // the wrong key
  for (let i = 0; i < 1005; i++) out.push(encodeEnvelope(other, envelope(i)));
  // oversized bodies never reach a receiver: the broker's max_message_size (1 MiB, as the
  // receiver's MAX_BODY_BYTES) refuses them (see below; the receiver's own check: envelope.test.ts)
  return out;
}

describe('a node under garbage', () => {
  let nodes: Recorder[] = [];
  afterEach(stopCreated);

  it('drops and counts 10,000 bad bodies, keeps running, and still receives a good event', async () => {
    const target = makeNode('fuzz-target', 0);
    const sender = makeNode('fuzz-sender', 1);
    nodes = [target, sender];
    await Promise.all(nodes.map((n) => n.chart.startAt(idle)));
    const garbage = bodies();
    expect(garbage.length).toBeGreaterThanOrEqual(10_000);

    const conn = await connect(brokers()[0].amqpUrl);
    try {
      const ch = await conn.createConfirmChannel();
      for (const body of garbage) ch.publish(EXCHANGES.mesh, 'fuzz.man', body);
      await ch.waitForConfirms();
    } finally {
      await conn.close();
    }
    // an oversized body: the broker refuses it (406, the channel closes), nothing is delivered
    const big = await connect(brokers()[0].amqpUrl);
    try {
      const ch = await big.createConfirmChannel();
      const closed = new Promise<unknown>((resolve) => ch.on('error', resolve));
      ch.publish(EXCHANGES.mesh, 'fuzz.man', Buffer.alloc(1024 * 1024 + 1, 65), {}, () => undefined);
      expect(String(await closed)).toMatch(/406.*larger than configured max size/);
    } finally {
      await big.close().catch(() => undefined);
    }
    await waitFor('every bad body counted', () => target.chart.networkStats().mesh.received >= garbage.length, 60_000).catch((err) => {
      throw new Error(`${err.message}: ${JSON.stringify(target.chart.networkStats().mesh)}`);
    });
    sender.chart.transmit(new Event('STILL_ALIVE', { ok: true }));
    await waitFor('the good event', () => target.received.some((e) => e.signalName === 'STILL_ALIVE'));

    // A few mutations only touch base64's unused bits and still decode to the valid token;
    // those are the same message (sender fuzzer, seq 1): delivered once, then duplicates.
    const key = new Fernet(MESH_KEY);
    const stillValid = garbage.filter((b) => {
      try {
        decodeEnvelope(key, b);
        return true;
      } catch {
        return false;
      }
    }).length;
    const stats = target.chart.networkStats().mesh;
    expect(stats.dropped).toBe(garbage.length - stillValid);
    expect(stats.duplicates).toBe(Math.max(0, stillValid - 1));
    expect(target.received.map((e) => e.signalName)).toEqual(stillValid > 0 ? ['FUZZ', 'STILL_ALIVE'] : ['STILL_ALIVE']);
    for (const reason of ['token', 'undecryptable', 'json', 'version', 'schema']) {
      expect(stats.droppedBy[reason], reason).toBeGreaterThan(0);
    }
    // reported once per sender and reason, not 10,000 times
    const drops = target.warnings.filter((w) => w.includes('dropped a mesh message'));
    expect(drops).toHaveLength(5); // one per reason: these bodies claim no sender
    expect(target.warnings.join('\n')).toMatch(/dropped a mesh message from an unknown sender \(undecryptable/);
  }, 120_000);
});
