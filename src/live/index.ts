export * from './live-stream.js';
export * from '../../transports/frame-fanout.js';
