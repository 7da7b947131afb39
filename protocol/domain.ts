import { Command } from './commands.js';

/**
 * Domain values the protocol's integer fields stand for, each defined once: the client's
 * helpers, the state mirror, correlation, conformance and the simulator all read them here.
 */

/** Stage axis numbers as the firmware uses them in int32Data0. */
export const Axis = { X: 1, Y: 2, Z: 3, R: 4 } as const;
/** Stage axis number: 1 X, 2 Y, 3 Z (mm), 4 R (degrees). */
export type AxisNumber = (typeof Axis)[keyof typeof Axis];
/** The axis numbers in order. */
export const AXIS_NUMBERS: readonly AxisNumber[] = Object.freeze([1, 2, 3, 4] as const);

/** Narrow an int32Data0 to an axis number, or undefined when it is not 1..4. */
export function asAxis(n: number | undefined): AxisNumber | undefined {
  return n === 1 || n === 2 || n === 3 || n === 4 ? n : undefined;
}

/**
 * What SYSTEM_STATE_GET reports: idle (int32Data0 = SYSTEM_STATE_IDLE 0xA002, observed; 0
 * is read as idle too) or busy (any other state code). `error` is kept in the type for the
 * state mirror's snapshot shape; no recorded answer means it. See protocol/system-state.ts.
 */
export type SystemState = 'idle' | 'busy' | 'error';

/** The system state a SYSTEM_STATE_GET reply's int32Data0 reads as (spec/protocol.md §5.4). */
export function systemStateOf(int32Data0: number): 'idle' | 'busy' {
  const code = int32Data0 >>> 0;
  return code === 0xa002 || code === 0 ? 'idle' : 'busy';
}

/** How a client correlates replies with requests (spec/correlation.md). */
export type CorrelationMode = 'sequenced' | 'lease';

/**
 * Harmless GETs used as fences, in order of preference: a fence must have a different code
 * from every request whose reply may still come, so that its own reply cannot be mistaken
 * for a late one (spec/correlation.md). Used by the lease and by the conformance probes.
 */
export const FENCE_CODES: readonly number[] = Object.freeze([Command.SYSTEM_STATE_GET, Command.CAMERA_IMAGE_SIZE_GET, Command.CAMERA_EXPOSURE_GET]);
