import { describe, expect, it } from 'vitest';
import { LamportClock } from '../../runtime/net/lamport.ts';

describe('LamportClock', () => {
  it('ticks on a local event and jumps past a received stamp', () => {
    const a = new LamportClock();
    const b = new LamportClock();
    const sent = a.tick(); // a transmits
    expect(sent).toBe(1);
    b.tick();
    b.tick();
    b.tick(); // b is at 3
    expect(b.receive(sent)).toBe(4); // max(3, 1) + 1
    const back = b.tick();
    expect(a.receive(back)).toBe(6); // max(1, 5) + 1: a receive always comes after its send
    expect(a.time).toBe(6);
  });

  it('a message from a node without a clock still ticks the receiver', () => {
    const c = new LamportClock();
    expect(c.receive(undefined)).toBe(1);
    expect(c.time).toBe(1);
  });
});
