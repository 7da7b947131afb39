export { StageHelper } from './stage.js';
export type { MoveResult, MoveOptions } from './stage.js';
export type { MoveByResult } from './stage.js';
export { LaserHelper } from './lasers.js';
export { SystemHelper } from './system.js';
export { readSettings } from './settings.js';
export { WorkflowHelper } from './workflow.js';
export type { WorkflowOptions, WorkflowProgress, WorkflowResult } from './workflow.js';
export { Axis, checkAxis, checkLaser, checkFinite } from './validate.js';
