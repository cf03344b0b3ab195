// The scale scenario's mesh comparison runs on a testbed of its own, brought up with the
// clustered testbed's settings (issue 30): its addresses, names, ports and namespaces, never
// the defaults (another helper's or the lead's testbed may be there).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { testbedSettings } from '../../ops/scenario/scale/scale.ts';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'scale-testbed-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('scale: the mesh testbed takes the clustered testbed\'s settings', () => {
  it('reads the addresses, names, ports and namespaces the testbed was brought up with', () => {
    const dir = tempDir();
    const settings = { topology: 'clustered', addressBase: '10.84.0.11', namePrefix: 'n', distPortBase: 24000, epmdPort: 4340, nsPrefix: 'mr4', erlArgs: '+stbt u', nodes: 3, tls: 'off', tlsMutual: false, tlsDir: join(dir, 'tls'), maxMessageSize: 1048576 };
    writeFileSync(join(dir, 'state.json'), JSON.stringify({ backend: 'netns', settings, nodes: {} }));
    expect(testbedSettings(dir)).toEqual({ addressBase: '10.84.0.11', namePrefix: 'n', distPortBase: 24000, epmdPort: 4340, nsPrefix: 'mr4', erlArgs: '+stbt u', maxMessageSize: 1048576 });
  });

  it('is empty where no testbed was brought up (the defaults apply)', () => {
    expect(testbedSettings(tempDir())).toEqual({});
  });
});
