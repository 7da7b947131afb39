import { DEVICE_REDUCERS } from './devices.js';
import { LASER_REDUCERS } from './lasers.js';
import { OPTICS_REDUCERS } from './optics.js';
import { STAGE_REDUCERS } from './stage.js';
import { WORKFLOW_REDUCERS } from './workflow.js';
import type { Reducer } from './context.js';

export type { Reducer, ReduceContext } from './context.js';
export { allLasersDisabled, previewOnly } from './lasers.js';

/** Command code → the reducer for packets with that code. Codes not listed never change the mirror. */
export const REDUCERS: ReadonlyMap<number, Reducer> = new Map<number, Reducer>([
  ...STAGE_REDUCERS,
  ...LASER_REDUCERS,
  ...DEVICE_REDUCERS,
  ...WORKFLOW_REDUCERS,
  ...OPTICS_REDUCERS,
]);
