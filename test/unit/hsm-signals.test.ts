import { describe, expect, it } from 'vitest';
import { Event, ReturnStatus, SignalRegistry, signals } from '../../runtime/hsm/index.ts';

describe('signals registry', () => {
  it('keeps the reserved miros numbers', () => {
    expect([
      signals.ENTRY_SIGNAL,
      signals.EXIT_SIGNAL,
      signals.INIT_SIGNAL,
      signals.REFLECTION_SIGNAL,
      signals.EMPTY_SIGNAL,
      signals.SEARCH_FOR_SUPER_SIGNAL,
      signals.STOP_FABRIC_SIGNAL,
      signals.STOP_ACTIVE_OBJECT_SIGNAL,
      signals.SUBSCRIBE_META_SIGNAL,
      signals.PUBLISH_META_SIGNAL,
    ]).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('appends idempotently and numbers new signals len+1', () => {
    const r = new SignalRegistry();
    expect(r.append('ALPHA')).toBe(11);
    expect(r.append('BETA')).toBe(12);
    expect(r.append('ALPHA')).toBe(11);
    expect(r.nameFor(12)).toBe('BETA');
    expect(r.size).toBe(12);
  });

  it('auto-registers unknown names on property access, like miros', () => {
    expect('HSM_TEST_AUTO_SIGNAL' in signals).toBe(false);
    const n = signals.HSM_TEST_AUTO_SIGNAL;
    expect(n).toBeGreaterThan(10);
    expect(signals.HSM_TEST_AUTO_SIGNAL).toBe(n);
    expect(signals.nameFor(n)).toBe('HSM_TEST_AUTO_SIGNAL');
    expect(signals.append('HSM_TEST_AUTO_SIGNAL')).toBe(n);
  });

  it('does not auto-register names probed by await and JSON', async () => {
    const before = signals.size;
    await Promise.resolve(signals); // probes `then`
    JSON.stringify({ s: signals.size });
    expect(signals.has('then')).toBe(false);
    expect(signals.size).toBe(before);
  });

  it('tells inner signals from user signals', () => {
    expect(signals.isInner('ENTRY_SIGNAL')).toBe(true);
    expect(signals.isInner(signals.SEARCH_FOR_SUPER_SIGNAL)).toBe(true);
    expect(signals.isInner(10)).toBe(true);
    expect(signals.isInner(signals.append('HSM_TEST_USER'))).toBe(false);
    expect(signals.isInner('HSM_TEST_NEVER_REGISTERED')).toBe(false);
    expect(signals.has('HSM_TEST_NEVER_REGISTERED')).toBe(false);
  });

  it('rejects assignment', () => {
    expect(() => {
      (signals as unknown as Record<string, number>).X = 3;
    }).toThrow(TypeError);
  });
});

describe('return status', () => {
  it('uses the miros numbers', () => {
    expect(ReturnStatus.SUPER).toBe(1);
    expect(ReturnStatus.UNHANDLED).toBe(3);
    expect(ReturnStatus.HANDLED).toBe(4);
    expect(ReturnStatus.IGNORED).toBe(5);
    expect(ReturnStatus.TRAN).toBe(9);
    expect(ReturnStatus.TRAN_XP).toBe(13);
  });
});

describe('Event', () => {
  it('registers a string signal and knows its number and name', () => {
    const e = new Event('HSM_TEST_EVENT_A');
    expect(e.signal).toBe(signals.HSM_TEST_EVENT_A);
    expect(e.signalName).toBe('HSM_TEST_EVENT_A');
    expect(new Event(e.signal).signalName).toBe('HSM_TEST_EVENT_A');
    expect(e.payload).toBeUndefined();
    expect(e.hasPayload()).toBe(false);
  });

  it('rejects an unregistered signal number', () => {
    expect(() => new Event(999_999)).toThrow(RangeError);
  });

  it('prints like miros', () => {
    expect(String(new Event('A'))).toBe('A::<>');
    expect(new Event('A', 'x').toString()).toBe('A::<x>');
    expect(new Event('A', { n: 1 }).toString()).toBe('A::<{"n":1}>');
    expect(new Event('A', null).toString()).toBe('A::<>');
    expect(new Event('A').repr()).toBe(`A:${signals.A}::<>`);
  });

  it('dumps to {signal_name, payload} JSON and loads back', () => {
    const text = Event.dumps(new Event('HSM_TEST_WIRE', { a: [1, 2] }));
    expect(JSON.parse(text)).toEqual({ signal_name: 'HSM_TEST_WIRE', payload: { a: [1, 2] } });
    const back = Event.loads(text);
    expect(back.signalName).toBe('HSM_TEST_WIRE');
    expect(back.payload).toEqual({ a: [1, 2] });
    expect(JSON.parse(Event.dumps(new Event('B')))).toEqual({ signal_name: 'B', payload: null });
    expect(Event.loads(Event.dumps(new Event('B'))).hasPayload()).toBe(false);
    expect(() => Event.loads('{"payload": 1}')).toThrow(TypeError);
  });
});
