// A program (runtime/sim/program.ts) on real brokers: one instance per chart (the `program`
// instance, ops/instances/program.ts) on its broker's host of a Testbed, its snoop trace on
// (plain) so that the monitor's distributed.jsonl has every mesh record, as in simulation.
// The workload's posts and transmits become instance commands; done() and invariant() read
// the instances' reports (their control lines) and the delivered events of distributed.jsonl.
import { DISTRIBUTED_JSONL } from '../log/records.ts';
import type { InstanceSpec } from '../scenario/runner.ts';
import type { Testbed } from '../scenario/testbed.ts';
import { deliveredFrom, type Program, type ProgramRun, type Report } from '../../runtime/sim/program.ts';
import type { SnoopRecord } from '../../runtime/net/snoop-record.ts';

/** Tags the instance protocol emits on its own: not a program's reports. */
const PROTOCOL_TAGS = new Set(['READY', 'STATS', 'WARN', 'KEYS']);

/** The instances of `program`: chart i on broker def.host, running the module at `modulePath` (compiled JS). */
export function programInstances(program: Program, modulePath: string): InstanceSpec[] {
  return program.charts.map((def) => ({
    name: def.name,
    program: 'program',
    broker: def.host,
    config: { trace: 'plain', tx: def.txRoutingKey, rx: def.rxRoutingKey, params: { module: modulePath } },
  }));
}

export interface TestbedProgramRun extends ProgramRun {
  /** The program finished within its timeout and its invariant holds. */
  pass: boolean;
  problems: string[];
}

/** Runs `program` on testbed `t` (which must have at least program.hosts nodes) to completion; registers its checks. */
export async function runProgramOnTestbed(t: Testbed, program: Program, modulePath: string): Promise<TestbedProgramRun> {
  if (t.nodes < program.hosts) throw new Error(`program ${program.name} needs ${program.hosts} brokers; the testbed has ${t.nodes}`);
  const instances = await t.startAll(programInstances(program, modulePath));
  const reports = (): Record<string, Report[]> =>
    Object.fromEntries(instances.map((i) => [i.name, i.controls.filter((c) => !PROTOCOL_TAGS.has(c.tag)).map((c) => ({ tag: c.tag, data: c.data }))]));
  program.workload({
    post: (chart, signal, payload) => t.send({ cmd: 'post', signal, ...(payload !== undefined ? { payload } : {}) }, [chart]),
    transmit: (chart, signal, payload) => t.send({ cmd: 'transmit', signal, ...(payload !== undefined ? { payload } : {}) }, [chart]),
  });
  const finished = await t.outcome(`program ${program.name} done`, () => program.done({ reports: reports(), delivered: {} }), program.timeoutMs ?? 60_000);
  await t.stop();
  const records = t
    .readLog(DISTRIBUTED_JSONL)
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as SnoopRecord);
  const run: ProgramRun = { reports: reports(), delivered: deliveredFrom(records) };
  const problems = [...(finished ? [] : [`program ${program.name}: not done within ${program.timeoutMs ?? 60_000} ms`]), ...program.invariant(run)];
  t.check(`invariant of ${program.name} holds, and it finished`, problems);
  return { ...run, pass: problems.length === 0, problems };
}
