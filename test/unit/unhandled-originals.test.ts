// UnhandledOriginals: a redelivered copy's ack waits for its original's handling; bounded.
import { describe, expect, it } from 'vitest';
import { UnhandledOriginals } from '../../runtime/net/unhandled-originals.ts';

describe('UnhandledOriginals', () => {
  it('runs the copies\' acks when the original is handled, once; a copy of a handled original is not held', () => {
    const u = new UnhandledOriginals();
    const acked: string[] = [];
    const handled = u.begin('a#1', () => acked.push('original'));
    expect(u.follow('a#1', () => acked.push('copy 1'))).toBe(true);
    expect(u.follow('a#1', () => acked.push('copy 2'))).toBe(true);
    expect(acked).toEqual([]);
    handled();
    expect(acked).toEqual(['original', 'copy 1', 'copy 2']);
    expect(u.size).toBe(0);
    expect(u.follow('a#1', () => acked.push('late copy'))).toBe(false); // the caller acks it at once
  });

  it('remembers at most `limit` originals: the oldest is released (its copies acked) and counted', () => {
    const u = new UnhandledOriginals(2);
    const acked: string[] = [];
    u.begin('a#1', () => undefined);
    u.follow('a#1', () => acked.push('copy of 1'));
    u.begin('a#2', () => undefined);
    u.begin('a#3', () => undefined);
    expect(u.shed).toBe(1);
    expect(u.size).toBe(2);
    expect(acked).toEqual(['copy of 1']);
  });
});
