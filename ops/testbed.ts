// miros-rabbitmq/testbed: the API the scenario scripts use. Clusters of RabbitMQ
// nodes (local, netns, docker backends), the scenario runner and its scenarios,
// and faults. zx (scenario scripts) and dockerode (docker backend) are optional peers.
export * from './cluster/index.ts';
export { SCENARIOS, main, scenarioNames, type ScenarioArgs } from './scenario/index.ts';
export { runScenario, Run, Instance, type RunResult, type RunOptions, type Scenario, type InstanceSpec } from './scenario/runner.ts';
export * from './faults/index.ts';
export { PACKAGE_ROOT, PACKAGE_VERSION } from './package-root.ts';
