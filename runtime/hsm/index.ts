/**
 * The statechart engine (miros semantics). Curated public surface.
 */
export {
  signals,
  SignalRegistry,
  HIGHEST_INNER_SIGNAL,
  ENTRY_SIGNAL,
  EXIT_SIGNAL,
  INIT_SIGNAL,
  REFLECTION_SIGNAL,
  EMPTY_SIGNAL,
  SEARCH_FOR_SUPER_SIGNAL,
  STOP_FABRIC_SIGNAL,
  STOP_ACTIVE_OBJECT_SIGNAL,
  SUBSCRIBE_META_SIGNAL,
  PUBLISH_META_SIGNAL,
  type Signals,
} from './signals.ts';
export { ReturnStatus } from './return-status.ts';
export { Event, type EventJson } from './event.ts';
export {
  HsmEventProcessor,
  HsmTopologyError,
  MAX_NEST_DEPTH,
  init,
  dispatch,
  top,
  state,
  spyOn,
  type State,
  type ChartOptions,
  type AugmentOptions,
} from './event-processor.ts';
export {
  formatTraceLine,
  traceLineFormat,
  formatTimestamp,
  stripped,
  strippedLine,
  spyFormat,
  type TraceRecord,
} from './instrumentation.ts';
export { HsmWithQueues, QUEUE_SIZE, type LiveLineCallback } from './hsm-with-queues.ts';
export {
  ActiveObject,
  ActiveObjectOutOfPostedEventResources,
  DEFAULT_PUBLISH_PRIORITY,
  MAX_POSTED_TIMERS,
  type ActiveObjectOptions,
  type PostOptions,
  type ErrorHook,
  type ErrorContext,
} from './active-object.ts';
export { Factory, StateBlueprint, StateTable, type SignalHandler } from './factory.ts';
export { router, Router, type QueueType, type Subscriber } from './router.ts';
export { uuid5, NAMESPACE_DNS } from './uuid5.ts';
