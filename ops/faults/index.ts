// Faults. The catalogue (catalogue.ts) names every kind: its parameters, inject, heal, record
// and the backend capability it needs; injectFault(kind, args) runs one by name and keeps it
// in force until healed (in-force.ts). The typed functions (each returns a FaultRecord):
//   killBroker, pauseBroker, resumeBroker, restartBroker (broker.ts),
//   partition, isolate, heal (network.ts; netns and docker, UnsupportedError on local),
//   latency, bandwidth, stall, resetPeer (toxics.ts: the TCP proxy; netns and docker),
//   killInstance, restartInstance (instances.ts: a running scenario's instances).
export { UnsupportedError } from './errors.ts';
export { type FaultOptions, type FaultRecord, type InstanceHost } from './record.ts';
export { CATALOGUE, FAULT_KINDS, type Catalogue, type ChaosUse, type FaultKind, type FaultParam, type FaultPaths, type FaultSpec, arity, chaosKinds, chaosKindsFor, checkArgs, defaultChaosKinds, faultSpec, supported, usage } from './catalogue.ts';
export { type HealAllResult, faultsInForce, healAll, injectFault, remember, undoFault } from './in-force.ts';
export { killBroker, pauseBroker, restartBroker, resumeBroker, termBroker } from './broker.ts';
export { cutsIn, heal, isolate, partition } from './network.ts';
export { PROXY_PORT, activeToxic, bandwidth, healToxics, latency, resetPeer, stall } from './toxics.ts';
export { killInstance, restartInstance } from './instances.ts';
