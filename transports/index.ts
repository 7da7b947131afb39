export * from './transport.js';
export * from './tcp.js';
export * from './memory.js';
export * from './random.js';
export * from './delegating.js';
export * from './frame-fanout.js';
export * from './safe-emitter.js';
