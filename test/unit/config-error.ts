// Runs `f` and returns the ConfigError it throws; fails the test if it throws anything else or nothing.
import { expect } from 'vitest';
import { ConfigError } from '../../runtime/net/errors.ts';

export function configError(f: () => unknown): ConfigError {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}
