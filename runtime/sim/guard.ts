// Determinism enforced, not hoped for: while a simulated run is under way, the real clock,
// timers, randomness, sockets and file writes of this thread throw a DeterminismError naming
// the call. Everything inside a run has the simulated process's Environment instead.
// installGuard() replaces them, the returned restore() puts every one back (simulate() calls
// it in a finally, so a failed run restores them too). Node's ESM named exports of builtins
// (import { randomBytes } from 'node:crypto') are refreshed with syncBuiltinESMExports, so the
// guard reaches them as well. Writes below `allowWritesUnder` (the run's own evidence dir)
// are let through: they are output, not input, and never change the run.
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { resolve, sep } from 'node:path';

/** A real clock, timer, random source, socket or file write used inside a simulated run. */
export class DeterminismError extends Error {
  constructor(readonly call: string) {
    super(
      `${call} was called inside a simulated run: it is not deterministic. ` +
        'Use the chart\'s environment (this.env / options.environment: now, setTimeout, random, randomBytes, connect) ' +
        'or the engine\'s timers (postFifo(e, { period, times })) instead.',
    );
    this.name = 'DeterminismError';
  }
}

const require = createRequire(import.meta.url);
type Patchable = Record<string, unknown>;

interface Patch {
  target: Patchable;
  key: string;
  /** The target's own property before (undefined: it came from its prototype, delete to restore). */
  descriptor: PropertyDescriptor | undefined;
}

let installed: (() => void) | undefined;
/** What the guard refused since it was installed (a chart's handler may catch and log the error: the run still knows). */
let refused: DeterminismError[] = [];

/** Records and throws the refusal of `call`. */
function deny(call: string): never {
  const err = new DeterminismError(call);
  refused.push(err);
  throw err;
}

/** The calls refused since the guard was installed, first first. */
export function refusedCalls(): readonly DeterminismError[] {
  return refused;
}

/** Whether a guard is installed (a simulated run is under way) in this thread. */
export function guardInstalled(): boolean {
  return installed !== undefined;
}

const WRITE_FLAGS = /[wa+]/;

/**
 * Makes the real clock, timers, randomness, sockets and file writes throw (see the header);
 * returns the function that restores them. One guard at a time per thread: a second install
 * (a run inside a run) is an error.
 */
export function installGuard(options: { allowWritesUnder?: string } = {}): () => void {
  if (installed) throw new Error('a simulated run is already under way in this thread: runs of one thread go one after another (use worker threads for parallel runs)');
  const patches: Patch[] = [];
  refused = [];
  const patch = (target: Patchable, key: string, replacement: unknown) => {
    patches.push({ target, key, descriptor: Object.getOwnPropertyDescriptor(target, key) });
    Object.defineProperty(target, key, { value: replacement, writable: true, configurable: true, enumerable: false });
  };
  const forbid = (target: Patchable, key: string, label: string) =>
    patch(target, key, function forbidden(): never {
      deny(label);
    });

  const g = globalThis as unknown as Patchable;
  for (const timer of ['setTimeout', 'setInterval', 'setImmediate']) forbid(g, timer, `${timer}()`);
  forbid(Math as unknown as Patchable, 'random', 'Math.random()');
  forbid(performance as unknown as Patchable, 'now', 'performance.now()');
  const hrtime = (() => {
    deny('process.hrtime()');
  }) as unknown as NodeJS.HRTime;
  hrtime.bigint = () => {
    deny('process.hrtime.bigint()');
  };
  patch(process as unknown as Patchable, 'hrtime', hrtime);
  patch(g, 'Date', guardedDate(g.Date as DateConstructor));
  const web = g.crypto as Patchable | undefined;
  if (web) for (const f of ['randomUUID', 'getRandomValues']) forbid(web, f, `crypto.${f}()`);

  const crypto = require('node:crypto') as Patchable;
  for (const f of ['randomBytes', 'randomFillSync', 'randomFill', 'randomUUID', 'randomInt', 'pseudoRandomBytes']) if (typeof crypto[f] === 'function') forbid(crypto, f, `crypto.${f}()`);

  const net = require('node:net') as Patchable;
  for (const f of ['connect', 'createConnection']) forbid(net, f, `net.${f}()`);
  forbid((net.Socket as { prototype: Patchable }).prototype, 'connect', 'net.Socket.connect()');
  const tls = require('node:tls') as Patchable;
  forbid(tls, 'connect', 'tls.connect()');

  guardWrites(require('node:fs') as Patchable, patch, forbid, options.allowWritesUnder);
  syncBuiltinESMExports();

  const restore = () => {
    for (const p of patches.reverse()) {
      if (p.descriptor) Object.defineProperty(p.target, p.key, p.descriptor);
      else delete p.target[p.key];
    }
    syncBuiltinESMExports();
    installed = undefined;
  };
  installed = restore;
  return restore;
}

/** Date with its clock reads forbidden: Date.now(), new Date() and Date() throw; new Date(ms) and Date.UTC stay (conversions, not reads). */
function guardedDate(RealDate: DateConstructor): DateConstructor {
  function GuardedDate(this: unknown, ...args: unknown[]): Date | string {
    if (new.target === undefined) deny('Date()');
    if (args.length === 0) deny('new Date()');
    return Reflect.construct(RealDate, args, new.target) as Date;
  }
  Object.setPrototypeOf(GuardedDate, RealDate);
  GuardedDate.prototype = RealDate.prototype;
  Object.defineProperty(GuardedDate, 'now', {
    value: () => {
      deny('Date.now()');
    },
    configurable: true,
    writable: true,
  });
  return GuardedDate as unknown as DateConstructor;
}

/** fs: every call that writes throws, unless it writes below `allowed` (or to a descriptor opened there). */
function guardWrites(
  fs: Patchable,
  patch: (target: Patchable, key: string, replacement: unknown) => void,
  forbid: (target: Patchable, key: string, label: string) => void,
  allowed: string | undefined,
): void {
  const root = allowed === undefined ? undefined : resolve(allowed);
  const under = (path: unknown) => root !== undefined && (typeof path === 'string' || path instanceof URL) && `${resolve(String(path instanceof URL ? path.pathname : path))}${sep}`.startsWith(`${root}${sep}`);
  const openFds = new Set<number>();
  const orig = (key: string) => fs[key] as (...args: unknown[]) => unknown;

  const pathChecked = (key: string) => {
    const original = orig(key);
    patch(fs, key, (...args: unknown[]) => {
      if (!under(args[0])) deny(`fs.${key}(${JSON.stringify(String(args[0]))})`);
      return original.apply(fs, args);
    });
  };
  for (const key of ['writeFileSync', 'appendFileSync', 'mkdirSync', 'writeFile', 'appendFile', 'mkdir', 'createWriteStream', 'rmSync', 'unlinkSync', 'renameSync']) pathChecked(key);

  const openSync = orig('openSync');
  patch(fs, 'openSync', (...args: unknown[]) => {
    const flags = args[1];
    const writing = typeof flags === 'string' ? WRITE_FLAGS.test(flags) : typeof flags === 'number' && flags !== 0;
    if (writing && !under(args[0])) deny(`fs.openSync(${JSON.stringify(String(args[0]))}, ${JSON.stringify(flags)})`);
    const fd = openSync.apply(fs, args) as number;
    if (writing) openFds.add(fd);
    return fd;
  });
  const closeSync = orig('closeSync');
  patch(fs, 'closeSync', (fd: number) => {
    openFds.delete(fd);
    return closeSync.call(fs, fd);
  });
  for (const key of ['writeSync', 'write']) {
    const original = orig(key);
    patch(fs, key, (...args: unknown[]) => {
      if (!openFds.has(args[0] as number)) deny(`fs.${key}(fd ${String(args[0])})`);
      return original.apply(fs, args);
    });
  }
  forbid(fs, 'open', 'fs.open()');
  const promises = fs.promises as Patchable;
  for (const key of ['writeFile', 'appendFile', 'open', 'mkdir']) forbid(promises, key, `fs.promises.${key}()`);
}
