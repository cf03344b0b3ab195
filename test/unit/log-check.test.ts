// `log check`, `log merge` and the diagram data on the logs of a real mesh-ring run
// (test/fixtures/log-run/mesh-ring-3): complete as recorded; any one line removed from an
// instance's evidence file (or from distributed.jsonl) is found and named.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkLogs } from '../../ops/log/check.ts';
import { diagramData, toMermaid } from '../../ops/log/diagram.ts';
import { mergeRecords } from '../../ops/log/merge.ts';
import { eventKey, loadRun } from '../../ops/log/records.ts';

const FIXTURE = join(import.meta.dirname, '../fixtures/log-run/mesh-ring-3');
const files = readdirSync(FIXTURE).filter((f) => f.endsWith('.jsonl'));
const instanceFiles = files.filter((f) => f !== 'distributed.jsonl');

/** A copy of the fixture run with line `index` (0-based) of `file` removed; returns the dir and the removed line. */
function withoutLine(file: string, index: number): { dir: string; removed: Record<string, any> } {
  const dir = mkdtempSync(join(tmpdir(), 'log-check-'));
  for (const f of files) copyFileSync(join(FIXTURE, f), join(dir, f));
  const lines = readFileSync(join(FIXTURE, file), 'utf8').trimEnd().split('\n');
  const [removed] = lines.splice(index, 1);
  writeFileSync(join(dir, file), `${lines.join('\n')}\n`);
  return { dir, removed: JSON.parse(removed) };
}

describe('log check', () => {
  it('finds the recorded run complete', () => {
    const result = checkLogs(loadRun([FIXTURE]));
    expect(result.problems).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.counts).toMatchObject({ evidenceFiles: 3, meshSent: 6, meshReceived: 6, senders: 4 });
  });

  it.each(instanceFiles)('names any one line removed from %s', (file) => {
    const count = readFileSync(join(FIXTURE, file), 'utf8').trimEnd().split('\n').length;
    expect(count).toBeGreaterThan(5);
    for (let i = 0; i < count; i++) {
      const { dir, removed } = withoutLine(file, i);
      const result = checkLogs(loadRun([dir]));
      expect(result.ok, `${file} without line ${i + 1}`).toBe(false);
      const named =
        removed.kind === 'stop'
          ? `${file}: incarnation ${removed.incarnation}: no closing record after n=${removed.n - 1}`
          : `${file}: incarnation ${removed.incarnation}: line n=${removed.n} missing`;
      expect(result.problems.join('\n'), `${file} without line ${i + 1}`).toContain(named);
      // a record that also crossed the network is named by its text
      if (removed.text) expect(result.problems.join('\n')).toContain(JSON.stringify(removed.text));
    }
  });

  it('names a line of an instance missing from distributed.jsonl by its text', () => {
    const lines = readFileSync(join(FIXTURE, 'distributed.jsonl'), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
    const ofInstances = lines.map((r, i) => [r, i] as const).filter(([r]) => r.sender.startsWith('ring'));
    expect(ofInstances.length).toBeGreaterThan(10);
    for (const [record, i] of ofInstances) {
      const result = checkLogs(loadRun([withoutLine('distributed.jsonl', i).dir]));
      expect(result.ok).toBe(false);
      expect(result.problems.join('\n')).toContain(`seq ${record.seq} (#${record.seq - record.inc}) never reached distributed.jsonl: ${JSON.stringify(record.text)}`);
    }
  });

  it('reports a mesh event received but never sent, and one sent but never received', () => {
    const dir = mkdtempSync(join(tmpdir(), 'log-check-'));
    const ring0 = instanceFiles.find((f) => f.startsWith('ring0'))!;
    copyFileSync(join(FIXTURE, ring0), join(dir, ring0)); // ring0 alone: its sends unanswered, its receives unsent
    const result = checkLogs(loadRun([dir]));
    expect(result.ok).toBe(false);
    expect(result.problems.filter((p) => p.includes('sent but never received'))).toHaveLength(2);
    expect(result.problems.filter((p) => p.includes('but never sent'))).toHaveLength(2);
  });

  it('lists a loss during a fault of faults.jsonl as expected, not as a problem', () => {
    const { dir, removed } = withoutLine(instanceFiles[0], 3);
    const at = new Date(removed.ts - 1000).toISOString();
    writeFileSync(join(dir, 'faults.jsonl'), `${JSON.stringify({ kind: 'pause-broker', target: ['n2'], at, backend: 'local', detail: 'SIGSTOP 1', undo: { kind: 'resume-broker', target: ['n2'] } })}\n`);
    const result = checkLogs(loadRun([dir]));
    expect(result.problems.join('\n')).not.toContain(`line n=${removed.n} missing`);
    expect(result.expected.join('\n')).toContain(`line n=${removed.n} missing`);
    expect(result.expected.join('\n')).toContain('during pause-broker n2');
  });

  it("a chaos cycle line (injectedAt, healedAt) is a fault band up to its heal, not a fixed span", () => {
    const { dir, removed } = withoutLine(instanceFiles[0], 3);
    const cycle = (injected: number, healed: number) =>
      `${JSON.stringify({ cycle: 1, kind: 'partition', target: ['n1', 'n2'], holdMs: 4000, injectedAt: new Date(injected).toISOString(), healedAt: new Date(healed).toISOString(), expectedLoss: 'none' })}\n`;
    // held 20 s: a fixed 10 s span (+ 5 s grace) would end before the loss; the heal does not
    writeFileSync(join(dir, 'faults.jsonl'), cycle(removed.ts - 20_000, removed.ts + 1000));
    let result = checkLogs(loadRun([dir]));
    expect(result.expected.join('\n')).toContain(`line n=${removed.n} missing`);
    expect(result.expected.join('\n')).toContain('during partition n1 n2');
    // healed 30 s before the loss: not explained by it
    writeFileSync(join(dir, 'faults.jsonl'), cycle(removed.ts - 40_000, removed.ts - 30_000));
    result = checkLogs(loadRun([dir]));
    expect(result.problems.join('\n')).toContain(`line n=${removed.n} missing`);
  });

  it('a chart killed right after its last line (a kill-instance fault aimed at it) lacks its closing record as expected', () => {
    const file = instanceFiles[0];
    const lines = readFileSync(join(FIXTURE, file), 'utf8').trimEnd().split('\n');
    const { dir, removed: stop } = withoutLine(file, lines.length - 1);
    const tail = JSON.parse(lines.at(-2)!);
    expect(stop.kind).toBe('stop');
    const killLine = (target: string, afterMs: number) =>
      `${JSON.stringify({ cycle: 1, kind: 'kill-instance', target: [target], holdMs: 1000, injectedAt: new Date(tail.ts + afterMs).toISOString() })}\n`;
    writeFileSync(join(dir, 'faults.jsonl'), killLine(tail.sender, 200));
    let result = checkLogs(loadRun([dir]));
    expect(result.problems.join('\n')).not.toContain('no closing record');
    expect(result.expected.join('\n')).toContain(`no closing record after n=${tail.n}`);
    expect(result.expected.join('\n')).toContain(`killed: kill-instance ${tail.sender}`);
    // a kill of another chart explains nothing
    writeFileSync(join(dir, 'faults.jsonl'), killLine('someone-else', 200));
    result = checkLogs(loadRun([dir]));
    expect(result.problems.join('\n')).toContain(`no closing record after n=${tail.n}`);
  });

  it('the CLI exits 1 and names the missing line, 0 on the complete run', () => {
    const cli = join(import.meta.dirname, '../../bin/mirosnet.mjs');
    const ok = spawnSync(process.execPath, [cli, 'log', 'check', FIXTURE], { encoding: 'utf8' });
    expect(ok.stdout).toContain('log check: OK');
    expect(ok.status).toBe(0);
    const { dir, removed } = withoutLine(instanceFiles[1], 2);
    const bad = spawnSync(process.execPath, [cli, 'log', 'check', dir], { encoding: 'utf8' });
    expect(bad.status).toBe(1);
    expect(bad.stdout).toContain(`line n=${removed.n} missing`);
  });
});

describe('log merge', () => {
  it('puts every record once in an order where no receive precedes its send and each sender keeps its order', () => {
    const logs = loadRun([FIXTURE]);
    const merged = mergeRecords(logs);
    const distributed = logs.distributed[0].records;
    expect(merged).toHaveLength(distributed.length); // every instance record also crossed the network: counted once
    const sendAt = new Map<string, number>();
    merged.forEach((r, i) => {
      if (r.kind === 'mesh-send') sendAt.set(eventKey(r.event!), i);
      if (r.kind === 'mesh-receive') expect(sendAt.get(eventKey(r.event!)), r.text).toBeLessThan(i);
    });
    for (const sender of new Set(merged.map((r) => r.sender))) {
      const seqs = merged.filter((r) => r.sender === sender && r.network === 'trace').map((r) => r.seq!);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    }
  });
});

describe('log diagram', () => {
  it('has a lane per chart and an arrow per mesh delivery; Mermaid has the same arrows', () => {
    const logs = loadRun([FIXTURE]);
    const data = diagramData(logs, 'fixture');
    const records = logs.distributed[0].records;
    expect(data.charts.sort()).toEqual([...new Set(records.map((r) => r.sender))].sort());
    expect(data.arrows).toHaveLength(records.filter((r) => r.kind === 'mesh-receive').length);
    expect(data.lost).toEqual([]);
    expect(toMermaid(data).match(/->>/g)).toHaveLength(data.arrows.length);
  });
});

describe('log check: incarnation ids (iid)', () => {
  /** One clean start and stop of chart c1 with seq base `incarnation` and (if given) incarnation id `iid`. */
  const life = (incarnation: number, iid: string | undefined, ts: number) => {
    const id = iid ? { iid } : {};
    return [
      { incarnation, ...id, n: 1, kind: 'start', sender: 'c1', host: '127.0.0.11', pid: 1, ts },
      { incarnation, ...id, n: 2, kind: 'stop', sender: 'c1', host: '127.0.0.11', ts: ts + 1, lamport: 0, totals: { lines: 1, byKind: {}, sent: { mesh: 0, trace: 0, spy: 0 } } },
    ];
  };
  const run = (lines: object[]) => {
    const dir = mkdtempSync(join(tmpdir(), 'log-check-iid-'));
    writeFileSync(join(dir, 'c1.jsonl'), `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
    return checkLogs(loadRun([dir]));
  };

  it('tells two starts apart by their iid even when the clock gave both the same seq base', () => {
    const same = 1_700_000_000_000_000;
    const result = run([...life(same, '0123456789abcdef', 1000), ...life(same, 'fedcba9876543210', 2000)]);
    expect(result.problems).toEqual([]);
  });

  it('without an iid (an older node), two starts with the same seq base read as one incarnation', () => {
    const same = 1_700_000_000_000_000;
    const result = run([...life(same, undefined, 1000), ...life(same, undefined, 2000)]);
    expect(result.problems.join('\n')).toContain(`c1.jsonl: incarnation ${same}: line n=1 twice`);
  });
});
