import { Command } from '../../../protocol/commands.js';
import { STATUS_OK } from '../../../protocol/constants.js';
import { patchCamera, withPart, patch } from '../snapshot.js';
import type { Reducer } from './context.js';

/**
 * A live-view or illumination-path frame with status 1. As a reply it answers our request;
 * unasked it is the state-change frame the instrument sends every client when another
 * client switched (spec/vocabulary.md "Events"). A live-view stop answered with status 0
 * means "was not running": live view is off either way.
 */
const liveView =
  (on: boolean): Reducer =>
  (s, packet) =>
    packet.status === STATUS_OK || !on ? patchCamera(s, { live: on }) : s;

const path =
  (side: 'left' | 'right', on: boolean): Reducer =>
  (s, packet) =>
    packet.status === STATUS_OK ? withPart(s, 'illumination', patch(s.illumination, { [side]: on })) : s;

/** Live-view and illumination-path reducers by command code. */
export const OPTICS_REDUCERS: ReadonlyArray<readonly [number, Reducer]> = [
  [Command.CAMERA_LIVE_VIEW_START, liveView(true)],
  [Command.CAMERA_LIVE_VIEW_STOP, liveView(false)],
  [Command.ILLUMINATION_LEFT_ENABLE, path('left', true)],
  [Command.ILLUMINATION_LEFT_DISABLE, path('left', false)],
  [Command.ILLUMINATION_RIGHT_ENABLE, path('right', true)],
  [Command.ILLUMINATION_RIGHT_DISABLE, path('right', false)],
];
