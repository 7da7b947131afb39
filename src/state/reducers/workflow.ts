import { systemStateOf } from '../../../protocol/domain.js';
import { Command } from '../../../protocol/commands.js';
import { STATUS_OK } from '../../../protocol/constants.js';
import { finite } from '../fields.js';
import { patchWorkflow, withPart } from '../snapshot.js';
import type { InstrumentSnapshot, WorkflowSnapshot } from '../types.js';
import type { Reducer } from './context.js';

/** The system became idle: no workflow runs any more. The last run's figures stay visible. */
function becameIdle(s: InstrumentSnapshot): InstrumentSnapshot {
  return patchWorkflow(withPart(s, 'system', 'idle'), { running: false });
}

/**
 * Sign of a running workflow: the system is busy, and if no run was known to be going
 * (running false or never seen) this is a new run whose figures start empty, so the
 * previous run's never mix with it.
 */
function inRun(s: InstrumentSnapshot, changes: Partial<WorkflowSnapshot>): InstrumentSnapshot {
  const busy = withPart(s, 'system', 'busy');
  if (s.workflow.running === true) return patchWorkflow(busy, changes);
  return patchWorkflow(busy, {
    running: true,
    gaugeSize: undefined,
    gaugeValue: undefined,
    imagesSaved: undefined,
    stackComplete: undefined,
    ...changes,
  });
}

/**
 * A run this client started is confirmed (spec/vocabulary.md "Events"): running from now on,
 * even when the instrument pushes no gauge; unchanged when a run is already known.
 */
export function runConfirmed(s: InstrumentSnapshot): InstrumentSnapshot {
  return s.workflow.running === true ? s : inRun(s, {});
}

/** SYSTEM_STATE_GET reply: int32Data0 0xA002 idle, any other state code busy (protocol/system-state.ts). */
const systemStateReply: Reducer = (s, packet) => {
  const state = systemStateOf(packet.int32Data0);
  return state === 'idle' ? becameIdle(s) : withPart(s, 'system', state);
};

/** SYSTEM_STATE_IDLE push (a workflow ended). */
const systemIdle: Reducer = (s) => becameIdle(s);

/** CAMERA_WORKFLOW_START reply, status 1 = started (0: the payload was not a workflow). */
const workflowStarted: Reducer = (s, packet) => (packet.status === STATUS_OK ? inRun(s, {}) : s);

const gaugeSize: Reducer = (s, packet) => inRun(s, { gaugeSize: packet.int32Data0 });
const gaugeValue: Reducer = (s, packet) => inRun(s, { gaugeValue: packet.int32Data0 });
const imagesSaved: Reducer = (s, packet) => inRun(s, { imagesSaved: packet.int32Data0 });

/**
 * CAMERA_STACK_COMPLETE push. The same code is documented as a camera ROI command, so a
 * packet that answers a request is that command's reply, not a stack report, and is ignored.
 */
const stackComplete: Reducer = (s, packet, request) => {
  if (request !== undefined) return s;
  const current = s.workflow.stackComplete;
  const durationUs = finite(packet.value);
  const same =
    current !== undefined &&
    current.acquired === packet.int32Data0 &&
    current.expected === packet.int32Data1 &&
    current.errors === packet.int32Data2 &&
    current.durationUs === durationUs;
  // Reuse the frozen object when the counts repeat so an identical report is a no-op.
  const next = same ? current : Object.freeze({ acquired: packet.int32Data0, expected: packet.int32Data1, errors: packet.int32Data2, durationUs });
  return inRun(s, { stackComplete: next });
};

/** System-state and workflow-progress reducers by command code. */
export const WORKFLOW_REDUCERS: ReadonlyArray<readonly [number, Reducer]> = [
  [Command.SYSTEM_STATE_GET, systemStateReply],
  [Command.SYSTEM_STATE_IDLE, systemIdle],
  [Command.CAMERA_WORKFLOW_START, workflowStarted],
  [Command.UI_SET_GAUGE_SIZE, gaugeSize],
  [Command.UI_SET_GAUGE_VALUE, gaugeValue],
  [Command.UI_IMAGES_SAVED_TO_STORAGE, imagesSaved],
  [Command.CAMERA_STACK_COMPLETE, stackComplete],
];
