/**
 * flamingo-protocol/sim: the simulated microscope, its fault language and its live-view
 * server. A subpath of its own so that the package root (and every app) never loads it.
 */
export * from './simulated-microscope.js';
export * from './fault-spec.js';
export * from './live-image.js';
export * from './image-pattern.js';
export type { SimulatorSnapshot } from './instrument.js';
export type { SimAxisSnapshot } from './stage.js';
export type { SimWorkflowProgress } from './workflow-run.js';
export { INSTRUMENT_SETTINGS_TEXT } from './instrument-settings-text.js';
export * from './simulator-options-schema.js';
