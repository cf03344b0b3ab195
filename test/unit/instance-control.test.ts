// kill-instance / restart-instance from another process's point of view: the fault API
// (ops/faults/instances.ts) finds the running scenario's control socket in the cluster dir
// and asks it; here the run is a stand-in with the Run's shape (no brokers, no children).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { killInstance, restartInstance } from '../../ops/faults/index.ts';
import { type ControlledRun, serveInstanceControl } from '../../ops/instances/instance-control.ts';

const dir = mkdtempSync(join(tmpdir(), 'mirosnet-control-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
// a local cluster recorded by its state.json (none of its nodes runs: not needed here)
const settings = { addressBase: '127.0.9.11', namePrefix: 'z', distPortBase: 25990, epmdPort: 4399, nsPrefix: 'mrz', erlArgs: '', nodes: 1 };
writeFileSync(join(dir, 'state.json'), JSON.stringify({ backend: 'local', settings, nodes: { z1: {} } }));

function standIn(): ControlledRun & { calls: string[] } {
  const instances = [{ name: 'chaos1-abc', exitCode: undefined as number | null | undefined, spec: { broker: 0 } }];
  const calls: string[] = [];
  return {
    id: 'abc',
    name: 'chaos',
    instances,
    calls,
    async killInstance(name) {
      calls.push(`kill ${name}`);
      instances[0].exitCode = -1;
    },
    async restartInstance(name) {
      calls.push(`restart ${name}`);
      instances[0].exitCode = undefined;
    },
  };
}

describe('instance faults through the run control socket', () => {
  it('kill-instance and restart-instance reach the run that owns the instance; its answer is the record', async () => {
    const run = standIn();
    const close = await serveInstanceControl(run, dir);
    try {
      expect(await killInstance('chaos1-abc', { dir })).toMatchObject({ kind: 'kill-instance', target: ['chaos1-abc'], backend: 'local', undo: { kind: 'restart-instance' } });
      await expect(killInstance('chaos1-abc', { dir })).rejects.toThrow(/chaos1-abc is not running \(restart it: mirosnet fault restart-instance chaos1-abc\)/);
      expect(await restartInstance('chaos1-abc', { dir })).toMatchObject({ kind: 'restart-instance', detail: expect.stringMatching(/started again under the same name/) });
      expect(run.calls).toEqual(['kill chaos1-abc', 'restart chaos1-abc']);
      await expect(killInstance('chaos9-abc', { dir })).rejects.toThrow(/no running scenario .* has an instance 'chaos9-abc'[\s\S]*/);
      await expect(killInstance('chaos9-abc', { dir }).catch((e: { hint?: string }) => Promise.reject(new Error(e.hint)))).rejects.toThrow(/its instances: chaos1-abc/);
    } finally {
      await close();
    }
    await expect(killInstance('chaos1-abc', { dir })).rejects.toThrow(/no running scenario/); // the socket is gone with the run
  });
});
