// The deterministic simulation's runtime half (miros-rabbitmq/sim is ops/sim/index.ts: this, plus
// the evidence of a run and programs on a real testbed). A SimWorld(seed) with a virtual clock,
// seeded random streams, simulated processes (each with its own Environment for the real
// runtime) and simulated RabbitMQ nodes.
export { SimWorld, SIM_EPOCH_MS, SIM_LIMITS, type SimProcess, type SimRunOptions } from './world.ts';
export { seededStream, type SimRandom } from './random.ts';
export { SimBroker, topicMatches, type SimBrokerLimits, type SimBrokerOptions, type SimBrokerStats } from './broker.ts';
export { SimChannel, SimChannelModel, SimRecoveringModel } from './amqp.ts';
export { AmqpClose, IllegalOperationError, REPLY } from './errors.ts';
// Programs and their runs: simulate(program, { seed }), the program format, the determinism guard.
export { simulate, runHash, canonicalJson, simHosts, type SimulateOptions, type SimEvidenceWriter, type SimFaultOptions, type SimWorldPort } from './simulate.ts';
export type { SimulationResult, SimRecord, SimFaultLog } from './result.ts';
// Faults chosen by a seed, with swarm testing.
export { FAULT_KINDS, parseFaultKinds, planFaults, scheduleFaults, faultInjector, type FaultInjector, MAX_CLOCK_STEP_MS, HEARTBEAT_TIMEOUT_MS, type Fault, type FaultKind, type FaultPlan, type FaultPlanOptions, type FaultRecord, type FaultTargets } from './faults.ts';
export { chartOf, validateProgram, deliveredFrom, deliveryDigest, type Program, type ChartDef, type ChartContext, type ProgramRun, type Report, type DeliveredEvent, type WorkloadContext } from './program.ts';
export { installGuard, guardInstalled, DeterminismError } from './guard.ts';
export { armTriggers, validateTriggers, type FaultTrigger, type TriggerWatch } from './triggers.ts';
