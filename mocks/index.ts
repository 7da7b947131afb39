export * from './simulated-microscope.js';
export * from './fault-spec.js';
export type { SimulatorSnapshot } from './instrument.js';
export type { SimAxisSnapshot } from './stage.js';
export type { SimWorkflowProgress } from './workflow-run.js';
export { INSTRUMENT_SETTINGS_TEXT } from './instrument-settings-text.js';
