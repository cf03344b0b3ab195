// The package as a user gets it: `npm pack`, install the tarball into an empty
// project, then use it there the three ways users do: plain `node` importing the
// runtime (and the testbed API), a strict NodeNext TypeScript consumer checked
// against the shipped .d.ts, and the installed `mirosnet` CLI.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allSnippets, normalizeOutput, snippetFileName } from './snippets.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const version = (JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
const tsc = path.join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');

let work: string; // a fresh temp dir: the tarball and the consumer project
let consumer: string;
let packedFiles: string[];

const npm = (args: string[], cwd: string): string =>
  execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_update_notifier: 'false' } });

beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), 'miros-package-'));
  // dist/ is fresh (the global setup built it); --ignore-scripts keeps `prepare` from
  // rewriting dist/ under the other suites' feet while they run compiled code
  const [packed] = JSON.parse(npm(['pack', '--json', '--ignore-scripts', '--pack-destination', work], repoRoot)) as Array<{ filename: string; files: Array<{ path: string }> }>;
  packedFiles = packed!.files.map((f) => f.path);
  consumer = path.join(work, 'consumer');
  execFileSync('mkdir', ['-p', consumer]);
  writeFileSync(path.join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  npm(['install', '--no-audit', '--no-fund', '--prefer-offline', path.join(work, packed!.filename), '@types/node@20'], consumer);
}, 300_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('npm pack: the tarball', () => {
  it('ships compiled JS, declarations and the CLI', () => {
    for (const f of ['dist/runtime/index.js', 'dist/runtime/index.d.ts', 'dist/runtime/index.js.map', 'dist/ops/cli.js', 'dist/ops/testbed.d.ts', 'dist/ops/scenario/api.js', 'dist/ops/scenario/api.d.ts', 'dist/ops/testing/rabbitmq-container.js', 'dist/ops/sim/index.js', 'dist/ops/sim/index.d.ts', 'bin/mirosnet.mjs', 'package.json', 'README.md']) {
      expect(packedFiles, f).toContain(f);
    }
  });

  it('ships no tests, CI, TypeScript sources, vault or key files', () => {
    const forbidden = packedFiles.filter(
      (f) => /^(test|\.ci|ansible|scripts|runtime|ops|bench|examples)\//.test(f) || /(^|\/)\.env$|vault|\.pem$|\.key$|(^|\/)cluster\.json$/.test(f) || (f.endsWith('.ts') && !f.endsWith('.d.ts')),
    );
    expect(forbidden).toEqual([]);
  });

  it('ships source maps without the sources inlined (they are not in the tarball)', () => {
    const map = JSON.parse(readFileSync(path.join(consumer, 'node_modules', 'miros-rabbitmq', 'dist', 'runtime', 'index.js.map'), 'utf8')) as { sourcesContent?: unknown };
    expect(map.sourcesContent).toBeUndefined();
  });
});

describe('installed into an empty project', () => {
  it('plain node imports the package and runs a small chart', () => {
    const script = path.join(consumer, 'chart.mjs');
    writeFileSync(
      script,
      `import { ActiveObject, Event, ReturnStatus, signals, stripped, NetworkedActiveObject, generateKey, isValidKey } from 'miros-rabbitmq';
import { up, injectFault } from 'miros-rabbitmq/testbed';
import { scenario, testbed, check, ringHops } from 'miros-rabbitmq/scenario';
import { SimWorld } from 'miros-rabbitmq/sim';
const world = new SimWorld(7);
const fired = [];
world.schedule(5, () => fired.push(world.nowMs() - 1_700_000_000_000));
await world.run();
const ao = new ActiveObject('lamp');
function on(chart, e) {
  if (e.signal === signals.OFF) return chart.trans(off);
  return chart.super(chart.top);
}
function off(chart, e) {
  if (e.signal === signals.ON) return chart.trans(on);
  return chart.super(chart.top);
}
ao.startAt(off);
ao.postFifo(new Event('ON'));
ao.postFifo(new Event('OFF'));
await new Promise((r) => setTimeout(r, 100));
await ao.stop();
console.log(JSON.stringify({
  state: ao.currentState(),
  trace: stripped(ao.trace()),
  networked: typeof NetworkedActiveObject,
  key: isValidKey(generateKey()),
  testbed: [typeof up, typeof injectFault],
  scenario: [typeof scenario, typeof testbed, check('c', []).pass, typeof ringHops],
  sim: fired,
}));
`,
    );
    const r = spawnSync(process.execPath, [script], { cwd: consumer, encoding: 'utf8', timeout: 20_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(out).toMatchObject({ state: 'off', networked: 'function', key: true, testbed: ['function', 'function'], scenario: ['function', 'function', true, 'function'], sim: [5] });
    expect(out.trace).toEqual(['[lamp] e->start_at() top->off', '[lamp] e->ON() off->on', '[lamp] e->OFF() on->off']);
  });

  it('a strict NodeNext TypeScript consumer typechecks against the shipped types', () => {
    writeFileSync(
      path.join(consumer, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, noEmit: true, skipLibCheck: false, types: ['node'] }, include: ['*.ts'] }),
    );
    writeFileSync(
      path.join(consumer, 'app.ts'),
      `import { NetworkedActiveObject, NetworkedFactory, Event, ReturnStatus, signals, type State, type NetworkStats } from 'miros-rabbitmq';
import { runScenario, type Scenario, type ClusterFile } from 'miros-rabbitmq/testbed';
import { scenario, type Testbed, type ScenarioArgs } from 'miros-rabbitmq/scenario';
import { SimWorld, type SimProcess, type SimRandom } from 'miros-rabbitmq/sim';
const world = new SimWorld(1);
world.broker('10.0.0.1');
const proc: SimProcess = world.process('alice');
const draw: SimRandom = world.stream('workload');
const simChart = new NetworkedActiveObject('alice', { environment: proc.environment, thisAddress: '10.0.0.1', hosts: ['10.0.0.1'] });
const simRun: Promise<void> = world.run({ untilMs: 1000 });
const chart = new NetworkedActiveObject('archer', { rabbitUser: 'peter', rabbitPassword: 'rabbit' });
const idle: State = (c, e) => (e.signal === signals.FIRE ? ReturnStatus.HANDLED : c.super(c.top));
const start: Promise<void> = chart.startAt(idle);
chart.transmit(new Event('FIRE', { arrows: 3 }));
chart.enableSnoopTraceNoColor();
const stats: NetworkStats = chart.networkStats();
const factory = new NetworkedFactory('f');
const s: State = factory.createState('s').catch('A', () => ReturnStatus.HANDLED).toMethod();
factory.nest(s, null);
const url: string = chart.thisUrl();
const run: (sc: Scenario, o: { nodes: number }) => Promise<unknown> = runScenario;
const file: ClusterFile | undefined = undefined;
const mine: Promise<number> = scenario({ name: 'mine', description: 'a typed scenario', timeoutMs: 1000 }, async (t: Testbed, a: ScenarioArgs) => {
  const i = await t.start({ name: 'x', program: 'peer', broker: a.nodes - 1 });
  await t.outcome('a line', () => i.lines.length > 0);
  t.check('it spoke', i.lines.length > 0);
});
// @ts-expect-error: transmit takes an Event, not a string
chart.transmit('FIRE');
export { start, stats, url, run, file, mine, draw, simChart, simRun };
`,
    );
    const r = spawnSync(process.execPath, [tsc, '-p', consumer], { cwd: consumer, encoding: 'utf8', timeout: 120_000 });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('miros-rabbitmq/testing without its optional peers names them and the install command', () => {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', "await import('miros-rabbitmq/testing')"], { cwd: consumer, encoding: 'utf8', timeout: 20_000 });
    expect(r.status).not.toBe(0);
    // our message is the error; the module-not-found stays attached as its cause
    expect(r.stderr).toMatch(/^Error: miros-rabbitmq\/testing needs the optional peer dependencies testcontainers and dockerode: npm install --save-dev testcontainers dockerode$/m);
  });

  it('npx mirosnet --version and keygen work from the installed package', () => {
    const v = spawnSync('npx', ['--no-install', 'mirosnet', '--version'], { cwd: consumer, encoding: 'utf8' });
    expect(v.status).toBe(0);
    expect(v.stdout.trim()).toBe(version);
    const k = spawnSync('npx', ['--no-install', 'mirosnet', 'keygen'], { cwd: consumer, encoding: 'utf8' });
    expect(k.status).toBe(0);
    expect(k.stdout.trim()).toMatch(/^[A-Za-z0-9_-]{43}=$/);
  });

  it('mirosnet scenario says the bundled scenarios are not in the package', () => {
    const help = spawnSync('npx', ['--no-install', 'mirosnet', 'scenario', '--help'], { cwd: consumer, encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/No scenarios here: .*not in the npm package: run them from a clone/);
    const run = spawnSync('npx', ['--no-install', 'mirosnet', 'scenario', 'mesh-ring'], { cwd: consumer, encoding: 'utf8' });
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/no scenario 'mesh-ring': the bundled scenarios are scripts in the repository's scenarios\/, not in the npm package/);
  });
});

// Every TypeScript and JavaScript block of README.md and docs/: one tsc run typechecks them
// all (strict, NodeNext, against the installed package's types; JavaScript with checkJs) and
// emits them; the blocks without a no-run marker then run, and their output must be the
// document's output block when it has one.
describe('the documentation snippets', () => {
  const snippets = allSnippets(repoRoot);
  const runnable = snippets.filter((s) => s.run);
  let emitted: string;

  beforeAll(() => {
    const dir = path.join(consumer, 'snippets');
    emitted = path.join(consumer, 'snippets-out');
    mkdirSync(dir, { recursive: true });
    for (const s of snippets) writeFileSync(path.join(dir, snippetFileName(s)), s.code);
    // zx is an optional peer the scenario snippets import: the repository's copy stands in
    symlinkSync(path.join(repoRoot, 'node_modules', 'zx'), path.join(consumer, 'node_modules', 'zx'), 'dir');
    writeFileSync(
      path.join(consumer, 'tsconfig.snippets.json'),
      JSON.stringify({
        compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, allowJs: true, checkJs: true, skipLibCheck: true, types: ['node'], outDir: 'snippets-out', rootDir: 'snippets' },
        include: ['snippets/*.ts', 'snippets/*.mjs'],
      }),
    );
  }, 60_000);

  it('finds the snippets (README.md has runnable ones with their output)', () => {
    expect(snippets.length).toBeGreaterThan(5);
    expect(runnable.filter((s) => s.file === 'README.md' && s.output !== undefined).length).toBeGreaterThanOrEqual(2);
  });

  it('every snippet typechecks under strict NodeNext against the installed package', () => {
    const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.snippets.json'], { cwd: consumer, encoding: 'utf8', timeout: 120_000 });
    // name each error by the document and line it comes from
    const where = new Map(snippets.map((s) => [snippetFileName(s), s]));
    const errors = (r.stdout + r.stderr).replace(/snippets\/([^(\s]+)\((\d+),(\d+)\)/g, (_, f: string, line: string, col: string) => {
      const s = where.get(f);
      return s ? `${s.file}:${s.line + Number(line)}:${col}` : `${f}(${line},${col})`;
    });
    expect(errors).toBe('');
    expect(r.status).toBe(0);
  });

  it.each(runnable.map((s) => [`${s.file}:${s.line}`, s] as const))('%s runs as shown', (_where, s) => {
    const js = path.join(emitted, snippetFileName(s).replace(/\.ts$/, '.js'));
    const r = spawnSync(process.execPath, [js], { cwd: consumer, encoding: 'utf8', timeout: 20_000, env: { ...process.env, NO_COLOR: '1' } });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    if (s.output !== undefined) expect(normalizeOutput(r.stdout)).toBe(normalizeOutput(s.output));
  });
});
