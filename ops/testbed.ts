// miros-rabbitmq/testbed: the ops kit as a library. Clusters of RabbitMQ nodes (local,
// netns, docker backends), the scenario runner, instances and faults. Scenario scripts use
// miros-rabbitmq/scenario (api.ts), re-exported here in part. zx (scenario scripts) and
// dockerode (docker backend) are optional peers.
export * from './cluster/index.ts';
export { main, scenarioNames } from './scenario/index.ts';
export { openRun, closeRun, finishRun, Run, Instance, type RunResult, type RunOptions, type Scenario, type InstanceSpec } from './scenario/runner.ts';
export { runScenario, scenario, testbed, Testbed, type TestbedOptions, type BoundFaults, type ScenarioArgs, type ScenarioDefinition } from './scenario/api.ts';
export { check, type CheckResult } from './scenario/summary.ts';
export { runInstance, control, readConfig, type InstanceConfig, type Command } from './instances/common.ts';
export * from './faults/index.ts';
// Both define partition and heal: the cluster's (one host's link down/up, netns) stay the
// top-level ones; the faults' (pairs of hosts, nftables) are faults.partition / faults.heal.
export { heal, partition } from './cluster/index.ts';
export * as faults from './faults/index.ts';
export { PACKAGE_ROOT, PACKAGE_VERSION } from './package-root.ts';
