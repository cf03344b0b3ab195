// Sender incarnations (issue 21 item 3): a sender restarted with its wall clock 30 minutes
// behind (faketime, as after an NTP step or on a board without an RTC) is heard at once,
// because receivers keep a dedup window per (sender, incarnation) and the incarnation is
// random, not the clock. Real brokers; the sender is a process of its own (fixtures/sender.mjs).
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../ops/util/wait.ts';
import { ChartInUseError } from '../../runtime/index.ts';
import { MESH_KEY, RUN, brokers, idle, makeNode, stopCreated } from './net-helpers.ts';

const SENDER = new URL('./fixtures/sender.mjs', import.meta.url).pathname;

function hasFaketime(): boolean {
  try {
    execFileSync('faketime', ['-f', '-30m', process.execPath, '-e', '0'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Runs the sender once (under `faketime -f <offset>` if given) and returns what it printed: confirmed events and its first seq. */
async function send(name: string, from: number, count: number, offset?: string): Promise<{ confirmed: number; firstSeq: number }> {
  const all = brokers();
  const settings = { name, thisAddress: all[0].host, hosts: all.slice(0, 3).map((n) => n.host), meshEncryptionKey: MESH_KEY, from, count };
  const env = { ...process.env, MIROS_TEST_SENDER: JSON.stringify(settings) }; // a key: not on argv
  const options = { env, stdio: ['ignore', 'pipe', 'inherit'] as ['ignore', 'pipe', 'inherit'] };
  const p = offset ? spawn('faketime', ['-f', offset, process.execPath, SENDER], options) : spawn(process.execPath, [SENDER], options);
  let line = '';
  createInterface({ input: p.stdout! }).on('line', (l) => (line = l.startsWith('SENT ') ? l : line));
  const [code] = (await once(p, 'exit')) as [number | null];
  expect(code).toBe(0);
  const [, confirmed, firstSeq] = line.split(' ');
  return { confirmed: Number(confirmed), firstSeq: Number(firstSeq) };
}

/** Without faketime (Debian package faketime) the clock-step test is reported skipped, by name. */
const withFaketime = hasFaketime() ? it : it.skip;

describe('incarnations', () => {
  afterEach(stopCreated);

  withFaketime('a sender restarted with its wall clock 30 minutes behind (faketime) is heard at once', async () => {
    const bob = makeNode('inc-bob', 1, { rxRoutingKey: '#.man' });
    await bob.chart.startAt(idle);
    const name = `inc-alice-${RUN}`;
    const first = await send(name, 0, 5);
    expect(first.confirmed).toBe(5);
    await waitFor('the first 5 at bob', () => bob.received.length === 5, 10_000);
    const second = await send(name, 5, 5, '-30m');
    expect(second.confirmed).toBe(5);
    expect(second.firstSeq).toBeLessThan(first.firstSeq); // its clock, so its sequence base, stepped back
    try {
      await waitFor('the 5 sent by the restart at bob', () => bob.received.length === 10, 10_000);
    } finally {
      console.log(`[incarnation] bob heard ${bob.received.length - 5} of the 5 sent by the restart 30 min behind; duplicates ${bob.chart.networkStats().mesh.duplicates}`);
    }
    expect(bob.received.map((e) => (e.payload as { i: number }).i)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(bob.chart.networkStats().mesh.duplicates).toBe(0);
  }, 60_000);

  it('mesh: a second live process with the same chart name on the same host is refused clearly (the exclusive consumer)', async () => {
    const first = makeNode('twin', 1);
    await first.chart.startAt(idle);
    const all = brokers();
    const options = { rabbitUser: 'peter', rabbitPassword: 'rabbit', meshEncryptionKey: MESH_KEY, rxRoutingKey: '#.man', hosts: all.slice(0, 3).map((n) => n.host), thisAddress: all[1].host, startTimeoutMs: 3000, rediscoverIntervalMs: 0 };
    const env = { ...process.env, MIROS_TEST_CHART: JSON.stringify({ name: first.chart.name, options }) }; // secrets: not on argv
    const other = spawn(process.execPath, [new URL('./fixtures/named-chart.mjs', import.meta.url).pathname], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let said = '';
    createInterface({ input: other.stdout! }).on('line', (l) => (said = l));
    const [code] = (await once(other, 'exit')) as [number | null];
    expect(code).toBe(1);
    expect(said).toContain(`REFUSED CHART_IN_USE chart ${first.chart.name}: another live process runs a chart of that name on host ${all[1].host}`);
    expect(said).toContain('in exclusive use');
    // and in this process at once
    const twin = makeNode('twin', 1);
    await expect(twin.chart.startAt(idle)).rejects.toThrow(ChartInUseError);
    expect(first.chart.networkStats().receiving.state).toBe('up');
  }, 60_000);
});
