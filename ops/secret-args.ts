// Secrets on the command line (issue 26): `ps` shows every process's argv to every local user,
// so the CLI takes the RabbitMQ password and the snoop keys from files (--password-file,
// --keys-file, or $RABBIT_PASSWORD_FILE / $SNOOP_KEYS_FILE) or from the environment
// ($RABBIT_PASSWORD, $SNOOP_*_ENCRYPTION_KEY, read by the library). The argv forms still work,
// with a warning on stderr.
import { readFileSync } from 'node:fs';

export class SecretFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretFileError';
  }
}

/** The command-line options a secret may come from. */
export interface SecretOptions {
  password?: string;
  passwordFile?: string;
  keys?: string;
  keysFile?: string;
  traceKey?: string;
  spyKey?: string;
}

export interface Secrets {
  password?: string;
  traceKey?: string;
  spyKey?: string;
}

/** The text of a secret file without its trailing newline; a clear error naming the flag when it cannot be read or is empty. */
export function readSecretFile(file: string, flag: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new SecretFileError(`${flag} ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  const value = text.replace(/\r?\n$/, '');
  if (!value.trim()) throw new SecretFileError(`${flag} ${file}: the file is empty`);
  return value;
}

/** A keys file: `TRACE[,SPY]` on one line, or one key a line. */
export function parseKeys(text: string): { traceKey?: string; spyKey?: string } {
  const [traceKey, spyKey] = text.split(/[\s,]+/).filter(Boolean);
  return { traceKey, spyKey };
}

export const argvWarning = (flag: string, instead: string): string =>
  `warning: ${flag} on the command line is visible to every local user (ps, /proc); use ${instead} instead`;

/**
 * The password and snoop keys from files, the command line (with a warning each) or nothing
 * (then the library reads the environment). A file wins over the same secret on argv.
 */
export function resolveSecrets(o: SecretOptions, env: NodeJS.ProcessEnv = process.env, warn: (line: string) => void = (l) => process.stderr.write(l + '\n')): Secrets {
  const out: Secrets = {};
  const passwordFile = o.passwordFile ?? env.RABBIT_PASSWORD_FILE;
  if (passwordFile !== undefined) out.password = readSecretFile(passwordFile, o.passwordFile !== undefined ? '--password-file' : '$RABBIT_PASSWORD_FILE');
  else if (o.password !== undefined) {
    warn(argvWarning('--password', '--password-file FILE or $RABBIT_PASSWORD'));
    out.password = o.password;
  }
  const keysFile = o.keysFile ?? env.SNOOP_KEYS_FILE;
  if (keysFile !== undefined) Object.assign(out, parseKeys(readSecretFile(keysFile, o.keysFile !== undefined ? '--keys-file' : '$SNOOP_KEYS_FILE')));
  else {
    const [k1, k2] = (o.keys ?? '').split(',').map((k) => k.trim() || undefined);
    if (o.keys !== undefined) warn(argvWarning('--keys', '--keys-file FILE or $SNOOP_TRACE_ENCRYPTION_KEY/$SNOOP_SPY_ENCRYPTION_KEY'));
    for (const [flag, given] of [['--trace-key', o.traceKey], ['--spy-key', o.spyKey]] as const) {
      if (given !== undefined) warn(argvWarning(flag, '--keys-file FILE or $SNOOP_TRACE_ENCRYPTION_KEY/$SNOOP_SPY_ENCRYPTION_KEY'));
    }
    out.traceKey = o.traceKey ?? k1;
    out.spyKey = o.spyKey ?? k2;
  }
  return out;
}
