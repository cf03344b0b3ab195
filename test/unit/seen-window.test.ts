import { describe, expect, it } from 'vitest';
import { SeenWindow, SeenWindows } from '../../runtime/net/seen-window.ts';

const BASE = 1_764_000_000_000_000; // a real sender's numbers start at Date.now() * 1000

describe('SeenWindow', () => {
  it('takes new numbers and refuses repeats', () => {
    const w = new SeenWindow(64);
    expect([1, 2, 3].map((i) => w.add(BASE + i))).toEqual([true, true, true]);
    expect([2, 3, 1].map((i) => w.add(BASE + i))).toEqual([false, false, false]);
  });

  it('keeps a late number that never arrived (the nack-then-resend case) and refuses it the second time', () => {
    const w = new SeenWindow(64);
    expect(w.add(BASE + 2)).toBe(true); // m2 confirmed and delivered first
    expect(w.add(BASE + 1)).toBe(true); // m1, nacked and resent after m2: not a duplicate
    expect(w.add(BASE + 2)).toBe(false); // m2's resend is
    expect(w.add(BASE + 1)).toBe(false);
  });

  it('forgets slots that wrapped: a number one window later is new, the one it replaced is too old', () => {
    const w = new SeenWindow(64);
    expect(w.add(BASE + 10)).toBe(true);
    expect(w.add(BASE + 10 + 64)).toBe(true); // same slot, next lap
    expect(w.add(BASE + 10)).toBe(false); // below the window: treated as seen
    expect(w.add(BASE + 11 + 63)).toBe(false); // the newest one, again
    expect(w.add(BASE + 12 + 32)).toBe(true); // inside the window and never seen
  });

  it('a jump over the whole window clears it', () => {
    const w = new SeenWindow(64);
    for (let i = 0; i < 64; i++) w.add(BASE + i);
    expect(w.add(BASE + 1000)).toBe(true);
    expect(w.add(BASE + 1000 - 5)).toBe(true); // never seen: late, kept
    expect(w.add(BASE + 1000 - 64)).toBe(false); // out of the window
  });

  it('stays exact over a long random stream with resends (against a Set)', () => {
    const w = new SeenWindow(1024);
    const truth = new Set<number>();
    let next = BASE;
    let rnd = 42;
    const random = () => ((rnd = (rnd * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let n = 0; n < 20_000; n++) {
      // mostly new numbers, sometimes a resend of one of the last 500
      const seq = random() < 0.8 ? next++ : next - 1 - Math.floor(random() * Math.min(500, next - BASE || 1));
      if (seq < BASE) continue;
      expect(w.add(seq), `seq ${seq - BASE}`).toBe(!truth.has(seq));
      truth.add(seq);
    }
  });

  it('refuses a size that is not a positive multiple of 8', () => {
    expect(() => new SeenWindow(0)).toThrow(RangeError);
    expect(() => new SeenWindow(12)).toThrow(RangeError);
  });
});

describe('SeenWindows: a window per sender and incarnation', () => {
  it('a new incarnation starts a fresh window; the same seq in the old one is still a duplicate', () => {
    const w = new SeenWindows();
    expect(w.add('a@h', 'aaaaaaaaaaaaaaaa', 1_000_000)).toBe(true);
    expect(w.add('a@h', 'bbbbbbbbbbbbbbbb', 5)).toBe(true); // its clock stepped back: far below the old window
    expect(w.add('a@h', 'aaaaaaaaaaaaaaaa', 1_000_000)).toBe(false);
    expect(w.add('a@h', 'bbbbbbbbbbbbbbbb', 5)).toBe(false);
    expect(w.add('b@h', 'bbbbbbbbbbbbbbbb', 5)).toBe(true); // another sender
  });

  it('envelopes without an incarnation share one window per sender, as before', () => {
    const w = new SeenWindows();
    expect(w.add('a@h', undefined, 1_000_000)).toBe(true);
    expect(w.add('a@h', undefined, 5)).toBe(false);
  });

  it('keeps at most perSender incarnations of a sender: the first heard is forgotten, and counted', () => {
    const w = new SeenWindows(2, 100, 64);
    w.add('a@h', undefined, 1);
    for (const id of ['1111111111111111', '2222222222222222', '3333333333333333']) w.add('a@h', id, 1);
    expect(w.shed).toBe(1);
    expect(w.windows).toBe(3); // the id-less window and the two newest incarnations
    expect(w.add('a@h', '1111111111111111', 1)).toBe(true); // forgotten: heard as new (and it sheds another)
    expect(w.add('a@h', '3333333333333333', 1)).toBe(false);
    expect(w.add('a@h', undefined, 1)).toBe(false);
    expect(w.shed).toBe(2);
  });

  it('keeps at most `senders` senders: the first heard is forgotten with all its windows, and counted', () => {
    const w = new SeenWindows(4, 2, 64);
    w.add('a@h', '1111111111111111', 1);
    w.add('a@h', '2222222222222222', 1);
    w.add('b@h', undefined, 1);
    w.add('c@h', undefined, 1);
    expect(w.shed).toBe(2);
    expect(w.windows).toBe(2);
    expect(w.add('b@h', undefined, 1)).toBe(false);
  });
});
