/**
 * flamingo-protocol: the Flamingo light-sheet microscope's TCP control protocol.
 * Everything public is exported from here.
 */
export * from '../protocol/index.js';
export * from '../transports/index.js';
