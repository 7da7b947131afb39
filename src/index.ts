/**
 * flamingo-protocol: the Flamingo light-sheet microscope's TCP control protocol.
 * Everything public is exported from here, except the simulator: `flamingo-protocol/sim`.
 *
 * @packageDocumentation
 * @module flamingo-protocol
 */
export * from '../protocol/index.js';
export * from '../transports/index.js';
export * from './live/index.js';
export * from './live/png.js';
export * from './state/index.js';
export * from './errors.js';
export { FlamingoClient } from './client/client.js';
export type {
  ClientOptions,
  ClientEvents,
  RequestOptions,
  SendOptions,
  WaitOptions,
  EventStreamOptions,
  EventSelector,
  ExclusiveTx,
} from './client/client.js';
export type { LiveOptions } from './client/client.js';
export { Claim, Dispatcher } from './dispatch/dispatcher.js';
export type { DispatcherEvents, DispatcherOptions, EventSink, Match, PacketEvents } from './dispatch/dispatcher.js';
export * from './client/event-stream.js';
export * from './client/reconnect.js';
export { ClientStats } from './client/stats.js';
export type { ClientCounters, ClientStatsSnapshot, LatencySummary, StatsObserver } from './client/stats.js';
export { LatencyHistogram } from './client/histogram.js';
export * from './correlation/index.js';
export * from './client/helpers/index.js';
export * from './apps/conformance/index.js';
export * from './client/upload.js';
export * from './apps/gateway/index.js';
export type { CommandRef } from './client/fields.js';
export * from '../protocol/options-schema.js';
export * from './client/options-schema.js';
export * from './apps/capture/index.js';
export * from './apps/bridge/index.js';
