/**
 * flamingo-protocol: the Flamingo light-sheet microscope's TCP control protocol.
 * Everything public is exported from here.
 */
export * from '../protocol/index.js';
export * from '../transports/index.js';
export * from './live/index.js';
export * from './png.js';
export * from '../mocks/live-image.js';
export * from '../mocks/image-pattern.js';
export * from './state/index.js';
export * from '../mocks/index.js';
export * from './errors.js';
export { FlamingoClient } from './client.js';
export type {
  ClientOptions,
  ClientEvents,
  RequestOptions,
  SendOptions,
  WaitOptions,
  EventStreamOptions,
  EventSelector,
  ExclusiveTx,
} from './client.js';
export type { LiveOptions } from './client.js';
export { Claim, Dispatcher } from './dispatcher.js';
export type { DispatcherEvents, DispatcherOptions, EventSink, PacketEvents } from './dispatcher.js';
export * from './event-stream.js';
export * from './safe-emitter.js';
export * from './reconnect.js';
export * from './correlation/index.js';
export * from './helpers/index.js';
export * from './conformance/index.js';
export * from './upload.js';
export * from './gateway/index.js';
export type { CommandRef } from './fields.js';
export * from './apps/capture/index.js';
export * from './apps/bridge/index.js';
