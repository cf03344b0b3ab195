// Faults. The typed API (one function per fault, each returns a FaultRecord):
//   killBroker, pauseBroker, resumeBroker, restartBroker (broker.ts; local and netns),
//   partition, isolate, heal (network.ts; netns and docker, UnsupportedError on local),
//   latency, bandwidth, stall, resetPeer (toxics.ts: the TCP proxy; loss is refused: no netem),
//   killInstance, restartInstance (instances.ts: a running scenario's instances).
// The older registry stays: createFault('kill-node', { node: 'n2' }), createFault('partition', { node: 'n2' }).
export { type Fault, type FaultFactory, createFault, faultNames, register } from './fault.ts';
export { type KillNodeParams, killNodeFault } from './kill-node.ts';
export { type PartitionParams, partitionFault } from './partition.ts';
export { UnsupportedError } from './errors.ts';
export { FAULT_KINDS, type FaultKind, type FaultOptions, type FaultRecord } from './record.ts';
export { killBroker, pauseBroker, restartBroker, resumeBroker } from './broker.ts';
export { cutsIn, heal, isolate, partition } from './network.ts';
export { PROXY_PORT, activeToxic, bandwidth, healToxics, latency, loss, resetPeer, stall } from './toxics.ts';
export { killInstance, restartInstance } from './instances.ts';
