// miros-rabbitmq/sim: the deterministic simulation. A SimWorld(seed) with a virtual clock,
// seeded random streams, simulated processes (each with its own Environment for the real
// runtime) and simulated RabbitMQ nodes (runtime/sim/); simulate(program, { seed, out }) with
// the evidence of a real run, or simulate(program, { seeds, faults }) checked seed by seed; a program on a real testbed (ops/sim/testbed-run.ts).
export * from '../../runtime/sim/index.ts';
export { simulate, seedList, type SimulateSeedsOptions, type SeedsResult, type SeedOutcome } from './simulate.ts';
export { checkSimRun, type SimCheck } from './check.ts';
export { writeSimEvidence, type SimSummary } from './evidence.ts';
export { runProgramOnTestbed, programInstances, type TestbedProgramRun } from './testbed-run.ts';
