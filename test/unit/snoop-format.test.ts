import { describe, expect, it } from 'vitest';
import { colorScribble, formatSnoopLine, formatSpy, formatTrace, scribbleBody, spyBody } from '../../runtime/net/snoop-format.ts';

// the escapes spelled out: these tests pin the bytes
const B = '\u001b[34m';
const P = '\u001b[35m';
const R = '\u001b[0m';
const G = '\u001b[30;1m';

describe('snoop line formats (byte-exact to miros-rabbitmq)', () => {
  it('prints local spy lines with the name blue', () => {
    expect(formatSpy(spyBody('0ca32_ao', 'START'), '0ca32_ao', true, true)).toBe(` [+s] ${B}0ca32_ao${R} START`);
  });

  it('prints remote spy lines purple with the reset after the space', () => {
    expect(formatSpy('2771f_ao SEARCH_FOR_SUPER_SIGNAL:outer', '2771f_ao', false, true)).toBe(
      ` [+s] ${P}2771f_ao ${R}SEARCH_FOR_SUPER_SIGNAL:outer`,
    );
  });

  it('prints spy lines plain without colour', () => {
    expect(formatSpy('2771f_ao <- Queued:(0) Deferred:(0)', '2771f_ao', false, false)).toBe(
      ' [+s] 2771f_ao <- Queued:(0) Deferred:(0)',
    );
  });

  it('colours the bracketed name of trace lines and removes newlines', () => {
    const line = '[2018-05-04 08:02:36.593144] [0ca32_ao] e->start_at() top->outer\n';
    expect(formatTrace(line, '0ca32_ao', true, true)).toBe(
      ` [+t] [2018-05-04 08:02:36.593144] [${B}0ca32_ao${R}] e->start_at() top->outer`,
    );
    expect(formatTrace(line, '0ca32_ao', false, true)).toBe(
      ` [+t] [2018-05-04 08:02:36.593144] [${P}0ca32_ao${R}] e->start_at() top->outer`,
    );
    expect(formatTrace(line, '0ca32_ao', false, false)).toBe(
      ' [+t] [2018-05-04 08:02:36.593144] [0ca32_ao] e->start_at() top->outer',
    );
  });

  it('builds scribbles as the reference does, grey only when coloured', () => {
    const body = scribbleBody('2018-05-04 08:02:36.593144', 'n1', 'hello there');
    expect(body).toBe('[2018-05-04 08:02:36.593144] [n1] # hello there');
    expect(colorScribble(body, 'n1')).toBe(`[2018-05-04 08:02:36.593144] [n1] ${G}# hello there${R}`);
    expect(formatTrace(colorScribble(body, 'n1'), 'n1', false, true)).toBe(
      ` [+t] [2018-05-04 08:02:36.593144] [${P}n1${R}] ${G}# hello there${R}`,
    );
  });

  it('renders a received snoop message: scribbles grey with colour, other payloads as JSON', () => {
    const scribble = { sender: 'n1', signal: 'SNOOP_SCRIBBLE', payload: scribbleBody('2018-05-04 08:02:36.593144', 'n1', 'hi') };
    expect(formatSnoopLine('trace', scribble, true, true)).toBe(` [+t] [2018-05-04 08:02:36.593144] [${B}n1${R}] ${G}# hi${R}`);
    expect(formatSnoopLine('trace', scribble, true, false)).toBe(' [+t] [2018-05-04 08:02:36.593144] [n1] # hi');
    expect(formatSnoopLine('spy', { sender: 'n1', signal: 'SNOOP_SPY', payload: 'n1 START' }, false, true)).toBe(` [+s] ${P}n1 ${R}START`);
    expect(formatSnoopLine('spy', { sender: 'n1', signal: 'SNOOP_SPY', payload: { odd: 1 } }, false, false)).toBe(' [+s] {"odd":1}');
  });
});
