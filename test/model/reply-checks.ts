import { dataText } from '../../protocol/codec.js';
import { Command } from '../../protocol/commands.js';
import type { Packet } from '../../protocol/packet.js';
import { fail } from './app-command.js';
import { LIMITS } from './model.js';

export function checkPositionReply(reply: Packet, axis: number, expected: number | undefined): void {
  if (reply.code !== Command.STAGE_POSITION_GET || reply.int32Data0 !== axis || reply.status !== 1) {
    fail(`GET axis ${axis} resolved with code 0x${reply.code.toString(16)} axis ${reply.int32Data0} status ${reply.status}`);
  }
  const [min, max] = LIMITS[axis] as readonly [number, number];
  // Unknown position: the axis may still be moving, and a moving axis reads 0.000
  // (spec/commands.json, STAGE_POSITION_GET "whileMoving").
  if (expected !== undefined ? !Object.is(reply.value, expected) : !((reply.value >= min && reply.value <= max) || reply.value === 0)) {
    fail(`GET axis ${axis} resolved with ${reply.value}, expected ${expected ?? `${min}..${max}`}`);
  }
}

export function checkLaserReply(reply: Packet, laser: number, expected: number | undefined): void {
  if (reply.code !== Command.LASER_LEVEL_GET || reply.int32Data0 !== laser) {
    fail(`GET laser ${laser} resolved with code 0x${reply.code.toString(16)} laser ${reply.int32Data0}`);
  }
  const text = dataText(reply);
  if (laser > 4) {
    if (reply.status !== 0 || text !== 'getLevel error') fail(`GET bad laser ${laser}: status ${reply.status} "${text}"`);
    return;
  }
  if (reply.status !== 1 || (expected !== undefined && text !== expected.toFixed(2)) || (expected === undefined && !/^\d+\.\d\d$/.test(text))) {
    fail(`GET laser ${laser} resolved with status ${reply.status} "${text}", expected ${expected?.toFixed(2) ?? 'a level'}`);
  }
}
