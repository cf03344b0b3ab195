import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Event, generateKey } from '../../runtime/index.ts';
import { startSnoopListener, type SnoopListener } from '../../ops/logs/snoop-listener.ts';
import { waitFor } from '../../ops/util/wait.ts';
import { RUN, brokers, idle, makeNode, stopCreated, type Recorder } from './net-helpers.ts';

const TRACE = generateKey();
const SPY = generateKey();

async function twoNodes(prefix: string): Promise<Recorder[]> {
  const nodes = [0, 1].map((i) => makeNode(`${prefix}${i}`, i + 1, { snoopTraceEncryptionKey: TRACE, snoopSpyEncryptionKey: SPY }));
  nodes[0].chart.enableSnoopTraceNoColor();
  nodes[0].chart.enableSnoopSpyNoColor();
  nodes[1].chart.enableSnoopTraceNoColor();
  await Promise.all(nodes.map((n) => n.chart.startAt(idle)));
  return nodes;
}

describe('the snoop listener: a passive observer of the trace and spy networks', () => {
  let nodes: Recorder[] = [];
  let listener: SnoopListener | undefined;
  afterEach(async () => {
    await stopCreated();
    await listener?.stop();
    nodes = [];
    listener = undefined;
  });

  it('prints the plain trace and spy lines of charts on other brokers, sending nothing itself', async () => {
    const lines: string[] = [];
    const [b] = brokers();
    listener = await startSnoopListener({ host: b.host, rabbitUser: 'peter', rabbitPassword: 'rabbit', traceKey: TRACE, spyKey: SPY, line: (l) => lines.push(l) });
    nodes = await twoNodes('lis');
    for (const n of nodes) n.chart.postFifo(new Event('GO'));
    const a = `lis0-${RUN}`;
    const c = `lis1-${RUN}`;
    await waitFor('both GO transitions and the spy of the first', () =>
      [a, c].every((n) => lines.some((l) => l.includes(`[${n}] e->GO() idle->busy`))) && lines.some((l) => l === ` [+s] ${a} GO:idle`),
    );
    expect(lines.every((l) => l.startsWith(' [+t] ') || l.startsWith(' [+s] '))).toBe(true);
    expect(lines.some((l) => l.startsWith(' [+s] ') && l.includes(c))).toBe(false);
    expect(listener.counters().trace.dropped).toBe(0);
  });

  it('mirosnet snoop --keys … --out FILE writes the lines and exits 0 on SIGTERM', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'snoop-')), 'distributed.log');
    const [b] = brokers();
    const child = spawn(process.execPath, ['bin/mirosnet.mjs', 'snoop', '--keys', `${TRACE},${SPY}`, '--host', b.host, '--user', 'peter', '--password', 'rabbit', '--out', out], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    await waitFor('the listener to listen', () => stderr.includes('listening'), 20_000);
    nodes = await twoNodes('cli');
    nodes[1].chart.postFifo(new Event('GO'));
    await waitFor('the GO of cli1 in the file', () => {
      try {
        return readFileSync(out, 'utf8').includes(`[cli1-${RUN}] e->GO() idle->busy`);
      } catch {
        return false;
      }
    });
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stderr).toMatch(/snoop: stopped after \d+ lines/);
    expect(readFileSync(out, 'utf8')).toContain(` [+s] cli0-${RUN} START`);
  });
});
