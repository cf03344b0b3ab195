// Errors that say what failed instead of passing for "nothing there": a corrupt state.json
// is not "no cluster", and a Docker engine that does not answer is not "no container".
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { afterAll, describe, expect, it } from 'vitest';
import { readState } from '../../ops/cluster/cluster-file.ts';
import { inspect } from '../../ops/cluster/docker.ts';
import { ClusterError } from '../../ops/cluster/errors.ts';

const temps: string[] = [];
afterAll(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A client whose container inspect fails as `err` does. */
const failingDocker = (err: Error & { statusCode?: number }) => ({ getContainer: () => ({ inspect: () => Promise.reject(err) }) }) as unknown as Docker;

describe('what failed is said', () => {
  it('a corrupt state.json is an error naming the file, not "no cluster"; a missing one is none', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mirosnet-state-'));
    temps.push(dir);
    expect(readState(dir)).toBeUndefined();
    writeFileSync(join(dir, 'state.json'), '{"backend": "local", "nodes": {');
    expect(() => readState(dir)).toThrow(ClusterError);
    expect(() => readState(dir)).toThrow(/state\.json is corrupt/);
  });

  it('docker inspect: 404 is "no container"; an engine that does not answer is an error', async () => {
    await expect(inspect(failingDocker(Object.assign(new Error('no such container'), { statusCode: 404 })), 'mirosnet-n1')).resolves.toBeUndefined();
    const err = await inspect(failingDocker(new Error('connect ECONNREFUSED /var/run/docker.sock')), 'mirosnet-n1').then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(ClusterError);
    expect((err as ClusterError).format()).toMatch(/cannot inspect container mirosnet-n1: connect ECONNREFUSED[\s\S]*Docker engine running/);
  });
});
