// The loss-path fault kinds against the shared local cluster, each once, through the fault
// catalogue as a scenario uses it (t.fault.inject): what each does is observed from outside
// (the management API, /proc, the instance's own control lines).
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openCluster, type ClusterHandle } from '../../ops/cluster/index.ts';
import type { FaultKind } from '../../ops/faults/catalogue.ts';
import { management } from '../../ops/faults/management.ts';
import { type Testbed, testbed } from '../../ops/scenario/testbed.ts';
import { until } from '../../ops/util/wait.ts';

let t: Testbed;
let c: ClusterHandle;
const a = () => `lpa-${t.id}`;
const b = () => `lpb-${t.id}`;

interface ApiConnection {
  name: string;
  client_properties?: { connection_name?: string };
}

/** The broker-side names of instance `name`'s connections on node 1. */
async function connectionsOf(name: string): Promise<string[]> {
  const list = (await management(c, c.file.nodes[0], 'GET', '/api/connections?columns=name,client_properties')) as ApiConnection[];
  return list.filter((x) => (x.client_properties?.connection_name ?? '').includes(` ${name}[`)).map((x) => x.name);
}

async function queueDepth(name: string): Promise<number | undefined> {
  return ((await management(c, c.file.nodes[0], 'GET', `/api/queues/%2F/${encodeURIComponent(name)}?columns=messages`).catch(() => undefined)) as { messages?: number } | undefined)?.messages;
}

const environ = (pid: number) => readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');

describe('loss-path faults (local backend, one scenario instance each)', { timeout: 120_000 }, () => {
  beforeAll(async () => {
    t = await testbed('loss-path-faults', { nodes: 1, timeoutMs: 30_000 });
    c = await openCluster({ dir: t.dir });
    await t.startAll([
      { name: a(), program: 'peer', broker: 0 },
      { name: b(), program: 'peer', broker: 0 },
    ]);
  }, 120_000);

  // each case is one check of the run's summary.json, passed or failed as vitest saw it
  const ran: string[] = [];
  afterEach((ctx) => {
    const r = ctx.task.result;
    ran.push(ctx.task.name);
    t.check(ctx.task.name, r?.state === 'pass' ? [] : (r?.errors ?? []).map((e) => e.message ?? String(e)).concat(r?.errors?.length ? [] : ['did not pass']));
  });

  afterAll(async () => {
    await t?.fault.inject('clear-alarm', 'n1').catch(() => undefined);
    if (!t) return;
    // the run leaves its summary.json like any scenario: one check per case, plus the run's own
    const run = await t.result();
    const summary = JSON.parse(readFileSync(`${run.logDir}/summary.json`, 'utf8')) as { pass: boolean; checks: { name: string; pass: boolean }[] };
    expect(summary.checks.map((k) => k.name)).toEqual(expect.arrayContaining(ran));
    expect(summary.checks.filter((k) => !k.pass)).toEqual([]);
  }, 60_000);

  it('drop-connections: the broker closes the instance\'s connections and the instance connects again', async () => {
    expect(await until(async () => (await connectionsOf(b())).length > 0, 20_000, 250)).toBe(true); // the listing lags a few seconds
    const before = await connectionsOf(b());
    const rec = await t.fault.inject('drop-connections', b());
    expect(rec).toMatchObject({ kind: 'drop-connections', target: [b()] });
    expect(rec.detail).toMatch(/closed \d+ connection\(s\)/);
    // new connections (other peer ports) of the same instance
    expect(await until(async () => (await connectionsOf(b())).some((n) => !before.includes(n)), 30_000, 250)).toBe(true);
    expect(t.instance(b()).exitCode).toBeUndefined();
  });

  it('delete-queue: the queue is gone and its depth at deletion is in the record', async () => {
    await t.fault.inject('kill-instance', b());
    for (let n = 0; n < 5; n++) t.send({ cmd: 'transmit', signal: 'PING', payload: { n } }, [a()]);
    const queue = `miros.mesh.${b()}`;
    expect(await until(async () => (await queueDepth(queue)) === 5, 20_000, 250)).toBe(true); // the statistics lag a few seconds
    const rec = await t.fault.inject('delete-queue', b());
    expect(rec).toMatchObject({ kind: 'delete-queue', target: [b()], removed: 5, undo: { kind: 'restart-instance', target: [b()] } });
    expect(await queueDepth(queue)).toBeUndefined(); // 404: gone
    await t.fault.inject('restart-instance', b()); // its undo: the chart declares its queues again
    expect(await until(async () => (await queueDepth(queue)) !== undefined, 20_000, 250)).toBe(true);
  });

  it('term-instance: a clean stop (STATS, exit 0), then the same program READY again', async () => {
    const inst = t.instance(b());
    const [stats, ready] = [inst.got('STATS').length, inst.got('READY').length];
    const rec = await t.fault.inject('term-instance', b());
    expect(rec.detail).toMatch(/SIGTERM instance .*; instance .* started again/);
    expect(inst.got('STATS').length).toBe(stats + 1); // only a clean stop reports its figures
    expect(inst.got('READY').length).toBe(ready + 1);
    expect(inst.crashes).toBe(0);
  });

  it.skipIf(!existsSync('/usr/bin/faketime'))('clock-step: the instance runs again under faketime 30 minutes behind; its undo restarts it on the real clock', async () => {
    const inst = t.instance(b());
    const rec = await t.fault.inject('clock-step', b());
    expect(rec).toMatchObject({ kind: 'clock-step', undo: { target: [b()] } });
    expect(environ(inst.child!.pid)).toContain('FAKETIME=-30m');
    expect(t.fault.inForce().filter((f) => f.target.includes(b())).map((f) => f.kind)).toEqual(['clock-step']);
    await t.fault.inject(rec.undo!.kind as FaultKind, ...rec.undo!.target);
    expect(environ(inst.child!.pid)).not.toContain('FAKETIME=-30m');
    expect(t.fault.inForce().filter((f) => f.target.includes(b()))).toEqual([]);
  });

  // both stops are clean: a chart killed under a stepped clock would leave an incarnation without
  // its closing record, its last line 30 minutes before the fault's band (the log check: lost)
  it.skipIf(!existsSync('/usr/bin/faketime'))('clock-step: the instance stops cleanly before it runs under faketime, and again at the undo', async () => {
    const inst = t.instance(b());
    const stats = inst.got('STATS').length;
    const rec = await t.fault.inject('clock-step', b());
    expect(inst.got('STATS').length).toBe(stats + 1); // only a clean stop reports its figures
    await t.fault.inject(rec.undo!.kind as FaultKind, ...rec.undo!.target);
    expect(inst.got('STATS').length).toBe(stats + 2);
    expect(inst.crashes).toBe(0);
  });

  it('alarm: the memory alarm is raised on the node (/api/nodes mem_alarm), and cleared by its undo', async () => {
    const node = c.file.nodes[0];
    const memAlarm = async () => ((await management(c, node, 'GET', `/api/nodes/${encodeURIComponent(node.erlangNode)}?columns=mem_alarm`)) as { mem_alarm?: boolean }).mem_alarm;
    const rec = await t.fault.inject('alarm', 'n1');
    try {
      expect(rec).toMatchObject({ kind: 'alarm', target: ['n1', 'memory'], undo: { kind: 'clear-alarm', target: ['n1', 'memory'] } });
      expect(await until(async () => (await memAlarm()) === true, 20_000, 250)).toBe(true);
    } finally {
      await t.fault.inject('clear-alarm', 'n1');
    }
    expect(await until(async () => (await memAlarm()) === false, 20_000, 250)).toBe(true);
  });
});
