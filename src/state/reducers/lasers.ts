import { Command } from '../../../protocol/commands.js';
import { STATUS_OK } from '../../../protocol/constants.js';
import { index0, packetLevel, requestLevel } from '../fields.js';
import { LASER_INDICES, asLaser, patchLaser } from '../snapshot.js';
import type { InstrumentSnapshot } from '../types.js';
import type { Reducer } from './context.js';

/**
 * LASER_LEVEL_GET: a reply (status 1) or an unsolicited workflow push, both carrying the
 * level text. A push has no request to fail, so its status is not consulted; its text
 * still has to parse ("getLevel error" never does).
 */
const levelReport: Reducer = (s, packet, request) => {
  if (request !== undefined && packet.status !== STATUS_OK) return s;
  const laser = asLaser(index0(packet, request));
  const level = packetLevel(packet);
  if (laser === undefined || level === undefined) return s;
  return patchLaser(s, laser, { level });
};

/** LASER_LEVEL_SET acknowledgement, status 1: the level is the request's text (the reply does not repeat it). */
const levelSetAck: Reducer = (s, packet, request) => {
  if (request === undefined || packet.status !== STATUS_OK) return s;
  const laser = asLaser(request.int32Data0 ?? 0);
  const level = requestLevel(request);
  if (laser === undefined || level === undefined) return s;
  return patchLaser(s, laser, { level });
};

function previewAck(enabled: boolean): Reducer {
  return (s, packet, request) => {
    if (request === undefined || packet.status !== STATUS_OK) return s;
    const laser = asLaser(request.int32Data0 ?? 0);
    return laser === undefined ? s : patchLaser(s, laser, { enabled });
  };
}

/** Every laser's preview off (LASER_ALL_DISABLE). */
export function allLasersDisabled(s: InstrumentSnapshot): InstrumentSnapshot {
  let next = s;
  for (const laser of LASER_INDICES) next = patchLaser(next, laser, { enabled: false });
  return next;
}

/**
 * LASER_ALL_DISABLE is never acknowledged by the firmware (the mirror applies it when it is
 * written); should a server acknowledge it anyway, a status-1 reply says the same.
 */
/** LASER_PREVIEW_ENABLE written: that line on, the others off (the instrument disables them). */
export function previewOnly(s: InstrumentSnapshot, laser: number | undefined): InstrumentSnapshot {
  const index = asLaser(laser);
  if (index === undefined) return s;
  let next = s;
  for (const laser of LASER_INDICES) next = patchLaser(next, laser, { enabled: laser === index });
  return next;
}

const allDisabledAck: Reducer = (s, packet) => (packet.status === STATUS_OK ? allLasersDisabled(s) : s);

/** Laser reducers by command code. */
export const LASER_REDUCERS: ReadonlyArray<readonly [number, Reducer]> = [
  [Command.LASER_LEVEL_GET, levelReport],
  [Command.LASER_LEVEL_SET, levelSetAck],
  [Command.LASER_PREVIEW_ENABLE, previewAck(true)],
  [Command.LASER_PREVIEW_DISABLE, previewAck(false)],
  [Command.LASER_ALL_DISABLE, allDisabledAck],
];
