// The records behind distributed.jsonl on real brokers: two charts with snoop trace, one
// transmits to the other; a snoop listener writes distributed.log and distributed.jsonl;
// each chart writes its evidence file. The mesh records make the arrow, the Lamport
// stamps order it, distributed.log keeps only its usual lines.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkLogs } from '../../ops/log/check.ts';
import { loadRun } from '../../ops/log/records.ts';
import { startSnoopListener } from '../../ops/logs/snoop-listener.ts';
import { Event, generateKey } from '../../runtime/index.ts';
import { until } from '../../ops/util/wait.ts';
import { brokers, idle, makeNode, stopCreated } from './net-helpers.ts';

afterEach(stopCreated);

describe('log records on real brokers', () => {
  it('a transmit and its dispatch become a mesh-send and a mesh-receive with ordered Lamport stamps, in both logs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'log-records-'));
    const traceKey = generateKey();
    const listener = await startSnoopListener({ host: brokers()[0].host, rabbitUser: 'peter', rabbitPassword: 'rabbit', traceKey, networks: ['trace'], out: join(dir, 'distributed.log') });
    expect(listener.jsonl).toBe(join(dir, 'distributed.jsonl'));
    const options = (name: string) => ({ snoopTraceEncryptionKey: traceKey, evidenceFile: join(dir, `${name}.jsonl`), statsIntervalMs: 100 });
    const a = makeNode('rec-a', 0, options('a'));
    const b = makeNode('rec-b', 1, options('b'));
    a.chart.enableSnoopTraceNoColor();
    b.chart.enableSnoopTraceNoColor();
    await Promise.all([a.chart.startAt(idle), b.chart.startAt(idle)]);
    a.chart.transmit(new Event('GO'));
    // b dispatched GO (idle -> busy); wait for its trace line and both mesh records at the listener
    expect(await until(() => listener.lines >= 3 && readFileSync(join(dir, 'distributed.jsonl'), 'utf8').includes('mesh-receive'), 15_000, 50)).toBe(true);
    expect(a.chart.networkStats().meshRecords).toEqual({ send: 1, receive: 0 });
    expect(b.chart.networkStats().meshRecords).toEqual({ send: 0, receive: 1 });
    // a stats line every 100 ms while the chart runs
    const statsOf = (name: string) => readFileSync(join(dir, `${name}.jsonl`), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((l) => l.kind === 'stats');
    expect(await until(() => statsOf('a').length >= 2, 5000, 50)).toBe(true);
    await stopCreated();
    await listener.stop();
    // the last one, written at stop, has the run's counts; none comes after the stop
    const aLast = statsOf('a').at(-1);
    const bLast = statsOf('b').at(-1);
    expect(aLast).toMatchObject({ kind: 'stats', sender: a.chart.name, sent: 1, unconfirmed: 0, drops: {} });
    // a link per broker discovery found (the cluster's at least), every one up
    expect(Object.keys(aLast.links).length).toBeGreaterThanOrEqual(brokers().length);
    expect(new Set(Object.values(aLast.links))).toEqual(new Set(['up']));
    expect(aLast.confirmed).toBeGreaterThanOrEqual(Object.keys(aLast.links).length); // GO to every broker, plus trace lines
    expect(bLast).toMatchObject({ kind: 'stats', sender: b.chart.name, sent: 0, delivered: 1, duplicates: 0 });
    const sizeAfterStop = readFileSync(join(dir, 'a.jsonl'), 'utf8').length;
    await new Promise((r) => setTimeout(r, 300));
    expect(readFileSync(join(dir, 'a.jsonl'), 'utf8').length).toBe(sizeAfterStop);

    const records = readFileSync(join(dir, 'distributed.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const send = records.find((r) => r.kind === 'mesh-send');
    const receive = records.find((r) => r.kind === 'mesh-receive');
    expect(send).toMatchObject({ sender: a.chart.name, signal: 'GO', lamport: 1, event: { sender: a.chart.name, lamport: 1, signal: 'GO' } });
    expect(receive).toMatchObject({ sender: b.chart.name, signal: 'GO', event: send.event });
    expect(receive.lamport).toBeGreaterThan(send.lamport);
    const transition = records.find((r) => r.sender === b.chart.name && r.kind === 'trace' && r.signal === 'GO');
    expect(transition).toMatchObject({ from: 'idle', to: 'busy', lamport: receive.lamport });
    // distributed.log: the usual lines only, the same text as the records of the trace lines
    const log = readFileSync(join(dir, 'distributed.log'), 'utf8').trimEnd().split('\n');
    expect(log.some((l) => l.includes('[+m]'))).toBe(false);
    expect(log).toEqual(records.filter((r) => !r.kind.startsWith('mesh-')).map((r) => r.text));
    // the evidence files and distributed.jsonl agree: nothing missing
    const result = checkLogs(loadRun([dir]));
    expect(result.problems).toEqual([]);
    expect(result.counts).toMatchObject({ evidenceFiles: 2, meshSent: 1, meshReceived: 1 });
  });
});
