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
