// The scenario API (miros-rabbitmq/scenario): a scenario is one script, zx or plain Node, that
// brings hosts up, starts instances (ours or your own chart programs), injects and heals
// faults, waits for conditions, checks, and writes logs/<run>/summary.json. No registry.
//
//   import { scenario } from 'miros-rabbitmq/scenario';
//   await scenario({ name: 'ping', description: '…', timeoutMs: 30_000 }, async (t, args) => {
//     const a = await t.start({ name: 'a', program: 'peer', broker: 0 });
//     …
//     await t.outcome('the PONG', () => …);
//     t.check('…', problems);
//   });
//
// scenario() parses the command line every scenario shares (--nodes --backend --timeout --logs
// --dir --tls --topology, plus the script's own options), runs the body, stops everything,
// runs the log check and sets process.exitCode (0 pass, 1 fail, 2 usage error). testbed() is
// the same without the command line, for scripts that parse their own.
// This module is the package's face: the Testbed is testbed.ts, the command line script.ts.
export { UnsupportedError } from '../cluster/errors.ts';
export { check, type CheckResult, type ScenarioSummary } from './summary.ts';
export { ringHops, traceEverywhere, traceLine, spyInvariant, esc, TIMESTAMP, type Hop } from './checks.ts';
export { ringMembers, hopsOf, TOGGLES, toggleTwice, allToggled } from './blocks.ts';
export type { Instance, InstanceSpec, Run, RunOptions, RunResult, Scenario } from './runner.ts';
export { runInstance, readConfig, control, type InstanceConfig, type Command as InstanceCommand } from '../instances/common.ts';
export type { FaultRecord } from '../faults/record.ts';
export type { FaultKind } from '../faults/catalogue.ts';
export { Testbed, testbed, runScenario, type TestbedOptions, type HostRef, type BoundFaults } from './testbed.ts';
export { scenario, scenarioCommand, scriptArgv, options, type ScenarioOption, type ScenarioArgs, type ScenarioDefinition } from './script.ts';
