// Install step: RabbitMQ from the distribution (Debian/Ubuntu, as root), or a clear error.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { ClusterError } from './errors.ts';
import { RABBITMQ_SERVER } from './rabbit.ts';

export interface InstallOptions {
  log?: (line: string) => void;
  /** Also require `ip` (iproute2) and `nft` (nftables, the partition faults), for the netns backend. */
  netns?: boolean;
  /** Also require what the test suite needs: python3-cryptography (the Fernet cross-check), iproute2 and nftables (the netns suites), chromium (the browser tests), faketime (the clock-step fault). */
  testing?: boolean;
  /** Also require Debian's prometheus (mirosnet observe). */
  observe?: boolean;
}

/** Debian's chromium, which the browser tests drive headless (puppeteer-core). */
export const CHROMIUM = '/usr/bin/chromium';

/** Debian's python3-cryptography, which the Fernet cross-check runs against. */
const PYTHON_FERNET = '/usr/lib/python3/dist-packages/cryptography/fernet.py';

function isDebianLike(): boolean {
  if (!existsSync('/usr/bin/apt-get')) return false;
  try {
    const osRelease = readFileSync('/etc/os-release', 'utf8');
    return /^(ID|ID_LIKE)=.*\b(debian|ubuntu)\b/m.test(osRelease);
  } catch {
    return existsSync('/etc/debian_version');
  }
}

function missingPackages({ netns = false, testing = false, observe = false }: InstallOptions): string[] {
  const missing: string[] = [];
  if (!existsSync(RABBITMQ_SERVER)) missing.push('rabbitmq-server');
  if ((netns || testing) && !existsSync('/usr/sbin/ip') && !existsSync('/sbin/ip') && !existsSync('/usr/bin/ip')) missing.push('iproute2');
  if ((netns || testing) && !existsSync('/usr/sbin/nft') && !existsSync('/sbin/nft')) missing.push('nftables');
  if (testing && !existsSync(PYTHON_FERNET)) missing.push('python3-cryptography');
  if (testing && !existsSync(CHROMIUM)) missing.push('chromium'); // the browser tests of run.html and mirosnet watch
  if (observe && !existsSync('/usr/bin/prometheus')) missing.push('prometheus'); // mirosnet observe
  if (testing && !existsSync('/usr/bin/faketime')) missing.push('faketime'); // the clock-step fault (an instance's clock 30 min behind)
  return missing;
}

/**
 * Makes sure RabbitMQ (for netns iproute2 and nftables, for tests also python3-cryptography) is installed;
 * installs it with apt when we may. Without root, a missing test package is only a warning
 * (its suite is then reported as not run); a missing RabbitMQ is an error.
 */
export async function ensureRabbitmq(opts: InstallOptions = {}): Promise<void> {
  const log = opts.log ?? ((l: string) => process.stderr.write(l + '\n'));
  let missing = missingPackages(opts);
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0 || !isDebianLike()) {
    const required = missingPackages({ ...opts, testing: false });
    const optional = missing.filter((p) => !required.includes(p));
    if (optional.length) log(`install-deps: ${optional.join(' ')} not installed and not root: the tests that need it are reported as not run (sudo apt-get install -y ${optional.join(' ')})`);
    if (required.length === 0) return;
    missing = required;
    const what = missing.join(' ');
    throw new ClusterError(
      `${what} ${missing.length === 1 ? 'is' : 'are'} not installed`,
      isDebianLike()
        ? `install it as root: sudo apt-get install -y ${what}   (or: sudo npx mirosnet install-deps)`
        : `install RabbitMQ 3.10+ with its Erlang so that ${RABBITMQ_SERVER} exists (this tool installs it by itself only on Debian/Ubuntu as root)`,
    );
  }
  const what = missing.join(' ');
  log(`==> installing ${what} (apt-get)`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await run('apt-get', ['update'], env);
  await run('apt-get', ['install', '-y', ...missing], env);
  const still = missingPackages(opts);
  if (still.length) throw new ClusterError(`apt-get finished but ${still.join(' ')} is still missing`, 'check the apt output above');
  log(`==> installed ${what}`);
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    // progress goes to stderr so stdout stays machine-readable
    const child = spawn(cmd, args, { stdio: ['ignore', process.stderr, process.stderr], env });
    child.on('error', (err) => reject(new ClusterError(`${cmd} failed to run: ${err.message}`, 'install rabbitmq-server by hand')));
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new ClusterError(`${cmd} ${args.join(' ')} exited with ${code}`, 'see its output above; fix apt, then run mirosnet install-deps')),
    );
  });
}
