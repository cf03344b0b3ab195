// Colour of snoop lines: an explicit setting wins; 'auto' colours a terminal only, and never
// with NO_COLOR set. A chart's enableSnoopTrace() defaults to 'auto'.
import { afterEach, describe, expect, it } from 'vitest';
import { useColor } from '../../runtime/net/color.ts';
import { NetworkedActiveObject } from '../../runtime/net/networked.ts';
import { generateKey } from '../../runtime/net/fernet.ts';

const tty = Object.getOwnPropertyDescriptor(process.stdout, 'isTTY');
const noColor = process.env.NO_COLOR;
function stdoutIsTTY(value: boolean): void {
  Object.defineProperty(process.stdout, 'isTTY', { value, configurable: true });
}
afterEach(() => {
  if (tty) Object.defineProperty(process.stdout, 'isTTY', tty);
  else delete (process.stdout as { isTTY?: boolean }).isTTY;
  if (noColor === undefined) delete process.env.NO_COLOR;
  else process.env.NO_COLOR = noColor;
});

const chart = (output?: (line: string) => void) =>
  new NetworkedActiveObject('c', { rabbitUser: 'u', rabbitPassword: 'p', meshEncryptionKey: generateKey(), ...(output ? { output } : {}) });

describe('useColor', () => {
  it('auto: a terminal without NO_COLOR; explicit settings win', () => {
    expect(useColor('auto', true, {})).toBe(true);
    expect(useColor(undefined, true, {})).toBe(true);
    expect(useColor('auto', false, {})).toBe(false);
    expect(useColor('auto', undefined, {})).toBe(false);
    expect(useColor('auto', true, { NO_COLOR: '1' })).toBe(false);
    expect(useColor('auto', true, { NO_COLOR: '' })).toBe(true); // no-color.org: set and not empty
    expect(useColor(true, false, { NO_COLOR: '1' })).toBe(true);
    expect(useColor(false, true, {})).toBe(false);
  });
});

describe('a chart\'s snoop colour', () => {
  it('auto follows stdout: plain into a pipe, coloured on a terminal, plain with NO_COLOR', () => {
    delete process.env.NO_COLOR;
    stdoutIsTTY(false);
    expect(chart().nets.colorMode('auto')).toBe('plain');
    stdoutIsTTY(true);
    expect(chart().nets.colorMode('auto')).toBe('color');
    process.env.NO_COLOR = '1';
    expect(chart().nets.colorMode('auto')).toBe('plain');
    expect(chart().nets.colorMode(true)).toBe('color');
  });

  it('with an output callback, auto colours unless NO_COLOR is set (the caller owns the sink)', () => {
    delete process.env.NO_COLOR;
    stdoutIsTTY(false);
    expect(chart(() => {}).nets.colorMode('auto')).toBe('color');
    process.env.NO_COLOR = '1';
    expect(chart(() => {}).nets.colorMode('auto')).toBe('plain');
    expect(chart(() => {}).nets.colorMode(false)).toBe('plain');
  });
});
