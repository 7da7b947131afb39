import { Command } from '../../../protocol/commands.js';
import { STATUS_OK } from '../../../protocol/constants.js';
import { finite, index0 } from '../fields.js';
import { AXIS_NUMBERS, asAxis, patchAxis } from '../snapshot.js';
import type { AxisSnapshot } from '../types.js';
import type { Reducer } from './context.js';

/** STAGE_POSITION_GET reply: the axis's position. The reply describes itself (axis echoed), so a late one counts too. */
const positionReply: Reducer = (s, packet, request) => {
  if (packet.status !== STATUS_OK) return s;
  const axis = asAxis(index0(packet, request));
  const position = finite(packet.value);
  if (axis === undefined || position === undefined) return s;
  return patchAxis(s, axis, { position });
};

/**
 * STAGE_POSITION_SET / _SET_SLIDER acknowledgement, status 1: the axis moves toward the
 * request's target. The reply carries no target, so without the request it changes nothing.
 * Status 0 (refused, e.g. outside the travel limits) means no motion: nothing changes.
 */
const moveAck: Reducer = (s, packet, request, ctx) => {
  if (request === undefined) return s;
  const ended = ctx.moves.takeAcknowledged(request);
  if (packet.status !== STATUS_OK) return s;
  const axis = asAxis(request.int32Data0 ?? 0);
  const target = finite(request.value ?? 0);
  if (axis === undefined || target === undefined) return s;
  // The move already ended (its STAGE_MOTION_STOPPED came first): record only its target.
  if ((ended & (1 << axis)) !== 0) return patchAxis(s, axis, { target });
  return patchAxis(s, axis, { moving: true, target, reached: undefined });
};

/** STAGE_HOME acknowledgement, status 1: every axis moves, toward a home position the protocol does not state. */
const homeAck: Reducer = (s, packet, request, ctx) => {
  if (request === undefined) return s;
  const ended = ctx.moves.takeAcknowledged(request);
  if (packet.status !== STATUS_OK) return s;
  let next = s;
  for (const axis of AXIS_NUMBERS) {
    if ((ended & (1 << axis)) !== 0) continue;
    next = patchAxis(next, axis, { moving: true, target: undefined, reached: undefined });
  }
  return next;
};

/**
 * STAGE_MOTION_STOPPED push: status 1 reached, 0 stopped short; int32Data0 axis; value the
 * final position. Both statuses are facts (a halt is not a failure), so both update.
 */
const motionStopped: Reducer = (s, packet, _request, ctx) => {
  const axis = asAxis(packet.int32Data0);
  if (axis === undefined) return s;
  const reached = packet.status === STATUS_OK;
  const position = finite(packet.value);
  ctx.moves.noteStopped(axis, reached, position);
  const changes: Partial<AxisSnapshot> = position === undefined ? { moving: false, reached } : { moving: false, reached, position };
  return patchAxis(s, axis, changes);
};

/** Stage reducers by command code. */
export const STAGE_REDUCERS: ReadonlyArray<readonly [number, Reducer]> = [
  [Command.STAGE_POSITION_GET, positionReply],
  [Command.STAGE_POSITION_SET, moveAck],
  [Command.STAGE_POSITION_SET_SLIDER, moveAck],
  [Command.STAGE_HOME, homeAck],
  [Command.STAGE_MOTION_STOPPED, motionStopped],
];
