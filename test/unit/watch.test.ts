import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { PortInUseError, WATCH_LINES, applyRecord, startWatch, type ChartView } from '../../ops/log/watch.ts';
import type { SnoopRecord } from '../../runtime/index.ts';

const trace = (sender: string, to: string, i: number): SnoopRecord => ({
  network: 'trace', sender, host: '127.0.0.11', inc: 1, seq: 1 + i, lamport: i, ts: 1000 + i, kind: 'trace', signal: 'GO', from: 'x', to, text: ` [+t] line ${i}`,
});

describe('mirosnet watch', () => {
  it('says the port is taken, before touching any broker', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const { port } = blocker.address() as AddressInfo;
    try {
      // no broker at this address: a taken port must be reported first
      const attempt = startWatch({ port, host: '127.0.0.1', rabbitUser: 'u', rabbitPassword: 'p', traceKey: 'not-checked-yet', startTimeoutMs: 1000 });
      await expect(attempt).rejects.toThrow(PortInUseError);
      await expect(attempt).rejects.toThrow(`port ${port} on 127.0.0.1 is already in use`);
    } finally {
      blocker.close();
    }
  });

  it("keeps each chart's latest state and its last lines", () => {
    const charts = new Map<string, ChartView>();
    applyRecord(charts, trace('a', 'idle', 0));
    for (let i = 1; i <= WATCH_LINES + 3; i++) applyRecord(charts, trace('a', i % 2 ? 'busy' : 'idle', i));
    applyRecord(charts, { ...trace('b', 'ignored', 0), kind: 'scribble', to: null, text: ' [+t] # hello' });
    const a = charts.get('a')!;
    expect(a.state).toBe('busy'); // WATCH_LINES + 3 = 15: odd
    expect(a.lines).toHaveLength(WATCH_LINES);
    expect(a.lines.at(-1)).toBe(` [+t] line ${WATCH_LINES + 3}`);
    expect(charts.get('b')).toMatchObject({ state: null, lines: [' [+t] # hello'] });
  });
});
