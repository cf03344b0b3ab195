// Fault registry with every fault loaded: createFault('partition', { node: 'n2' }).
export { type Fault, type FaultFactory, createFault, faultNames, register } from './fault.ts';
export { type KillNodeParams, killNodeFault } from './kill-node.ts';
export { type PartitionParams, partitionFault } from './partition.ts';
