// Secrets off argv (issue 26): files and the environment first, argv with a warning.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SecretFileError, parseKeys, resolveSecrets } from '../../ops/secret-args.ts';

const dir = mkdtempSync(join(tmpdir(), 'secret-args-'));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text, { mode: 0o600 });
  return p;
};

describe('resolveSecrets', () => {
  it('reads --password-file and --keys-file without a warning (trailing newline dropped; keys TRACE,SPY or one a line)', () => {
    const warnings: string[] = [];
    const s = resolveSecrets({ passwordFile: file('pw', 's3cret\n'), keysFile: file('keys', 'T1\nS2\n') }, {}, (l) => warnings.push(l));
    expect(s).toEqual({ password: 's3cret', traceKey: 'T1', spyKey: 'S2' });
    expect(warnings).toEqual([]);
    expect(parseKeys('A,B')).toEqual({ traceKey: 'A', spyKey: 'B' });
    expect(parseKeys('A')).toEqual({ traceKey: 'A', spyKey: undefined });
  });

  it('takes $RABBIT_PASSWORD_FILE and $SNOOP_KEYS_FILE', () => {
    const s = resolveSecrets({}, { RABBIT_PASSWORD_FILE: file('pw2', 'x'), SNOOP_KEYS_FILE: file('k2', 'K') }, () => undefined);
    expect(s).toEqual({ password: 'x', traceKey: 'K', spyKey: undefined });
  });

  it('still takes --password, --keys, --trace-key and --spy-key, each with a warning on stderr naming the safer way', () => {
    const warnings: string[] = [];
    expect(resolveSecrets({ password: 'p', keys: 'A,B' }, {}, (l) => warnings.push(l))).toEqual({ password: 'p', traceKey: 'A', spyKey: 'B' });
    expect(resolveSecrets({ traceKey: 'T', spyKey: 'S' }, {}, (l) => warnings.push(l))).toEqual({ traceKey: 'T', spyKey: 'S' });
    expect(warnings).toHaveLength(4);
    expect(warnings[0]).toMatch(/--password on the command line is visible .*--password-file/);
    expect(warnings[1]).toMatch(/--keys on the command line .*--keys-file/);
  });

  it('gives nothing (the library reads the environment) when no secret is given', () => {
    expect(resolveSecrets({}, {}, () => undefined)).toEqual({ traceKey: undefined, spyKey: undefined });
  });

  it('names the flag and the file when it is missing or empty', () => {
    expect(() => resolveSecrets({ passwordFile: join(dir, 'none') }, {}, () => undefined)).toThrow(new SecretFileError(`--password-file ${join(dir, 'none')}: no such file`));
    expect(() => resolveSecrets({ keysFile: file('empty', '\n') }, {}, () => undefined)).toThrow(/--keys-file .*empty: the file is empty/);
  });
});
