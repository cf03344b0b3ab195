// A node of today's version and one of the version before the optional lc/inc fields
// (the fixture is envelope.ts as of 65b5ec2) understand each other, both ways; an envelope
// of the old version names no destination (net, rk), which a new node delivers only with
// acceptUnbound.
import { describe, expect, it } from 'vitest';
import { Admission } from '../../runtime/net/admission.ts';
import { checkDestination } from '../../runtime/net/destination.ts';
import { decodeEnvelope, encodeEnvelope } from '../../runtime/net/envelope.ts';
import { EnvelopeError } from '../../runtime/net/errors.ts';
import { Fernet, generateKey } from '../../runtime/net/fernet.ts';
import * as old from '../fixtures/envelope/envelope-v1-65b5ec2.ts';
import * as previous from '../fixtures/envelope/envelope-v1-65ec84b.ts';

const fernet = new Fernet(generateKey());
const header = { sender: 'ring0', host: '127.0.0.11', seq: 1_700_000_000_000_001, ts: 1_700_000_000_123, signal: 'TOKEN', payload: { hop: 3 } };

describe('envelope version 1 with and without the optional Lamport clock', () => {
  it('an old node decodes what a new node sends (the clock and incarnation are ignored)', () => {
    const body = encodeEnvelope(fernet, { ...header, lc: 42, inc: 1_700_000_000_000_000 });
    const seen = old.decodeEnvelope(fernet, body);
    expect(seen).toEqual({ v: 1, ...header });
    expect(seen).not.toHaveProperty('lc');
  });

  it('a new node decodes what an old node sends (no clock: lc and inc absent)', () => {
    const body = old.encodeEnvelope(fernet, header);
    const seen = decodeEnvelope(fernet, body);
    expect(seen).toEqual({ v: 1, ...header });
    expect(seen.lc).toBeUndefined();
    expect(seen.inc).toBeUndefined();
  });

  it('a new node carries the clock to a new node', () => {
    const seen = decodeEnvelope(fernet, encodeEnvelope(fernet, { ...header, lc: 7, inc: 1_700_000_000_000_000 }));
    expect(seen.lc).toBe(7);
    expect(seen.inc).toBe(1_700_000_000_000_000);
  });

  it('rejects a clock that is not a non-negative integer, on both sides', () => {
    expect(() => encodeEnvelope(fernet, { ...header, lc: -1 })).toThrow(/lc must be a non-negative integer/);
    const bad = Buffer.from(fernet.encrypt(JSON.stringify({ v: 1, ...header, lc: 'seven' })));
    expect(() => decodeEnvelope(fernet, bad)).toThrow(EnvelopeError);
    expect(() => decodeEnvelope(fernet, bad)).toThrow(/lc must be a non-negative integer/);
  });
});

// The incarnation id (iid, issue 21 item 3) next to a node of 65ec84b, which has lc and inc but not iid.
// Across a restart, what a receiver dedups by:
//   sender new (iid) → receiver new: a window per (sender, iid): a restart is heard even with its clock stepped back;
//   sender new → receiver 65ec84b: iid ignored, one window per sender (as before: a clock stepped back mutes it);
//   sender 65ec84b (no iid) → receiver new: one window per sender, as before;
//   a sender upgraded across the restart (65ec84b, then new) → receiver new: the new incarnation gets a window of its own.
describe('envelope version 1 with and without the incarnation id (iid)', () => {
  const iid = '0123456789abcdef';

  it('a 65ec84b node decodes what a new node sends (iid ignored; inc stays a safe integer)', () => {
    const body = encodeEnvelope(fernet, { ...header, lc: 3, inc: 1_700_000_000_000_000, iid });
    const seen = previous.decodeEnvelope(fernet, body);
    expect(seen).toEqual({ v: 1, ...header, lc: 3, inc: 1_700_000_000_000_000 });
    expect(seen).not.toHaveProperty('iid');
  });

  it('a new node decodes what a 65ec84b node sends (no iid) and carries iid to a new node', () => {
    const fromPrevious = decodeEnvelope(fernet, previous.encodeEnvelope(fernet, { ...header, lc: 3, inc: 1_700_000_000_000_000 }));
    expect(fromPrevious.iid).toBeUndefined();
    expect(decodeEnvelope(fernet, encodeEnvelope(fernet, { ...header, iid })).iid).toBe(iid);
  });

  it('rejects an iid that is not 16 to 64 lowercase hex digits, on both sides', () => {
    expect(() => encodeEnvelope(fernet, { ...header, iid: 'not-hex' })).toThrow(/iid must be 16 to 64 lowercase hex digits/);
    for (const bad of ['abc', 'ABCDEF0123456789', 12345678901234567, 'g'.repeat(16)]) {
      const body = Buffer.from(fernet.encrypt(JSON.stringify({ v: 1, ...header, iid: bad })));
      expect(() => decodeEnvelope(fernet, body)).toThrow(/iid must be 16 to 64 lowercase hex digits/);
    }
  });

  it('across a restart, a receiver of each version: who hears a sender whose clock stepped back', async () => {
    const { SeenWindows, SeenWindow } = await import('../../runtime/net/seen-window.ts');
    const base = 1_700_000_000_000_000;
    const behind = base - 30 * 60 * 1_000_000;
    const first = decodeEnvelope(fernet, encodeEnvelope(fernet, { ...header, seq: base + 1, inc: base, iid }));
    const restarted = decodeEnvelope(fernet, encodeEnvelope(fernet, { ...header, seq: behind + 1, inc: behind, iid: 'fedcba9876543210' }));
    const newReceiver = new SeenWindows();
    const previousReceiver = new SeenWindow(); // 65ec84b: one window per sender, iid unknown
    const heard = (e: typeof first) => [newReceiver.add(`${e.sender}@${e.host}`, e.iid, e.seq), previousReceiver.add(e.seq)];
    expect(heard(first)).toEqual([true, true]);
    expect(heard(restarted)).toEqual([true, false]); // the new receiver hears it; the previous one takes it for a duplicate
  });
});

describe('envelope version 1 with and without the authenticated destination (net, rk)', () => {
  const arrival = { network: 'mesh' as const, routingKey: 'valve.one' };

  it('an old node decodes what a new node sends (the destination is ignored)', () => {
    const body = encodeEnvelope(fernet, { ...header, net: 'mesh', rk: 'valve.one' });
    expect(old.decodeEnvelope(fernet, body)).toEqual({ v: 1, ...header });
  });

  it('a new node with acceptUnbound off (the default) drops what an old node sends, as unbound', () => {
    const body = old.encodeEnvelope(fernet, header);
    const env = decodeEnvelope(fernet, body);
    expect(env.net).toBeUndefined();
    expect(checkDestination(env, arrival, false)?.reason).toBe('unbound');
    expect(new Admission({ replayBoundMs: 1e12 }).refuse('mesh', 'valve.one', env, body)?.reason).toBe('unbound');
  });

  it('a new node with acceptUnbound on delivers what an old node sends, and still checks what a new node sends', () => {
    const body = old.encodeEnvelope(fernet, header);
    const admission = new Admission({ acceptUnbound: true, replayBoundMs: 1e12 });
    expect(admission.refuse('mesh', 'valve.one', decodeEnvelope(fernet, body), body)).toBeUndefined();
    const bound = encodeEnvelope(fernet, { ...header, seq: header.seq + 1, net: 'mesh', rk: 'valve.one' });
    expect(admission.refuse('mesh', 'valve.two', decodeEnvelope(fernet, bound), bound)?.reason).toBe('misrouted');
    expect(admission.refuse('mesh', 'valve.one', decodeEnvelope(fernet, bound), bound)).toBeUndefined();
  });

  it('rejects a destination that is not a string', () => {
    const bad = Buffer.from(fernet.encrypt(JSON.stringify({ v: 1, ...header, rk: 7 })));
    expect(() => decodeEnvelope(fernet, bad)).toThrow(/rk must be a string/);
  });
});
