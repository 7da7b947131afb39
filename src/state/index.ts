export { InstrumentState, type ExclusiveRunner, type InstrumentStateOptions } from './instrument-state.js';
export { refreshPlan, REFRESH_GROUPS, type RefreshGroup, type RefreshReport, type RefreshRequest, type RefreshRequestFn } from './refresh.js';
export { AXIS_NAMES, AXIS_NUMBERS, EMPTY_SNAPSHOT } from './snapshot.js';
export { isPacketCause } from './types.js';
export { attachSemanticEvents } from './semantic-events.js';
export type * from './semantic-events.js';
export type {
  AxisName,
  AxisNumber,
  AxisSnapshot,
  CameraSnapshot,
  ConnectionCause,
  ConnectionSnapshot,
  ConnectionState,
  CorrelationMode,
  InstrumentSnapshot,
  InstrumentStateEvents,
  LaserIndex,
  LaserSnapshot,
  LasersSnapshot,
  LedSnapshot,
  SentRequestCause,
  StackCompleteSnapshot,
  StageSnapshot,
  StateChangeCause,
  SystemState,
  WorkflowSnapshot,
} from './types.js';
