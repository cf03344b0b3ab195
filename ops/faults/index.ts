// Faults. The typed API (one function per fault, each returns a FaultRecord):
//   killBroker, pauseBroker, resumeBroker, restartBroker (broker.ts; local and netns),
//   partition, isolate, heal (network.ts; netns only, UnsupportedError elsewhere).
// The older registry stays: createFault('kill-node', { node: 'n2' }), createFault('partition', { node: 'n2' }).
export { type Fault, type FaultFactory, createFault, faultNames, register } from './fault.ts';
export { type KillNodeParams, killNodeFault } from './kill-node.ts';
export { type PartitionParams, partitionFault } from './partition.ts';
export { UnsupportedError } from './errors.ts';
export { FAULT_KINDS, type FaultKind, type FaultOptions, type FaultRecord } from './record.ts';
export { killBroker, pauseBroker, restartBroker, resumeBroker } from './broker.ts';
export { cutsIn, heal, isolate, partition } from './network.ts';
