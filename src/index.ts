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
