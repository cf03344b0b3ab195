// runtime/lan: this host's address and the other broker hosts. Imports nothing else of ours.
export { thisAddress, sourceAddressFor, defaultRouteInterface, localAddresses, FALLBACK_ADDRESS, type ThisAddressOptions } from './address.ts';
export { parseArpTable, arpCandidates, readArpTable, DEFAULT_ARP_PATH, type ArpEntry } from './arp.ts';
export { readCacheFile, writeCacheFile, DEFAULT_CACHE_FILE, DEFAULT_CACHE_MAX_AGE_MINUTES, type CacheRead } from './cache-file.ts';
export {
  readClusterFile,
  readClusterHosts,
  parseClusterFile,
  completeClusterFile,
  NewerClusterFileError,
  CLUSTER_FILE_VERSION,
  CLUSTER_BACKENDS,
  CLUSTER_TOPOLOGIES,
  CLUSTER_TLS_MODES,
  PARTITION_HANDLINGS,
  type ClusterBackend,
  type ClusterCredentials,
  type ClusterFile,
  type ClusterFileDraft,
  type ClusterMembership,
  type ClusterNode,
  type ClusterNodeProxy,
  type ClusterTls,
  type ClusterTlsMode,
  type ClusterTopology,
  type ClusterToxics,
  type PartitionHandling,
} from './cluster-file.ts';
export { discoverHosts, type DiscoverOptions, type Discovery } from './discover.ts';
export { LanFileError } from './errors.ts';
export { readHostsFile, DEFAULT_HOSTS_FILE } from './hosts-file.ts';
export { isIPv4, isLoopbackIPv4, isPrivateIPv4 } from './ip.ts';
export { probeAmqp, DEFAULT_PROBE_TIMEOUT_MS, type ProbeOptions, type ProbeResult } from './probe.ts';
