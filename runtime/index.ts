// miros-rabbitmq for TypeScript: the public API.
// The statechart engine (miros semantics, byte-identical spy and trace):
export * from './hsm/index.ts';
// The seam for time, timers, randomness and the transport:
export { realEnvironment, type Environment, type TimerHandle, type Connect } from './env/environment.ts';
// The networked layer:
export { NetworkedActiveObject, NetworkedFactory } from './net/networked.ts';
export type { NetworkedOptions, NetworkStats, Lan, SnoopMode, StopOptions } from './net/miros-nets.ts';
export type { NetworkCounters } from './net/receiver.ts';
export type { LinkSnapshot, LinkState, LinkMachineState } from './net/broker-link.ts';
export { SnoopObserver, type SnoopObserverOptions, type SnoopNetwork } from './net/snoop-observer.ts';
export { useColor, type ColorSetting } from './net/color.ts';
export type { SnoopRecord, MeshEventId, RecordKind } from './net/snoop-record.ts';
export { EVIDENCE_DIR_ENV, type EvidenceLine, type EvidenceStart, type EvidenceStats, type EvidenceStop, type EvidenceTotals, type StatsCounters } from './net/evidence.ts';
export type { NetOptions, NetConfig, Topology } from './net/config.ts';
export type { Transmission, TransmissionResult } from './net/transmission.ts';
export { resolveNetConfig, amqpUrl } from './net/config.ts';
export { RETRY, retryDelayMs, classifyError, type ErrorClass } from './net/retry.ts';
export { Fernet, generateKey, isValidKey, type TokenCipher } from './net/fernet.ts';
export { MultiFernet, KeyRing, parseKeyList, keyFingerprint, type KeyInput, type KeyListInput, type KeyUsage } from './net/key-ring.ts';
export { ENVELOPE_VERSION, type Envelope } from './net/envelope.ts';
export {
  MirosNetError,
  ConfigError,
  IllegalOperationError,
  BrokerUnreachableError,
  ChartInUseError,
  BrokerAccessRefusedError,
  BrokerClosedError,
  EnvelopeError,
  OutboxOverflowError,
  PayloadError,
} from './net/errors.ts';
export { BrokerTlsError, type TlsProblem, type TlsOptions } from './net/tls.ts';
// Host discovery (LAN reflection):
export { discoverHosts, probeAmqp, thisAddress, type Discovery, type DiscoverOptions } from './lan/index.ts';
export { MetricsUnavailableError, loadPromClient, type MetricsOptions, type MetricsRegistry } from './net/metrics.ts';
