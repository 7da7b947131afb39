export * from './live-stream.js';
export * from './frame-fanout.js';
