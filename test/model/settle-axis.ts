import { Command } from '../../protocol/commands.js';
import type { Packet } from '../../protocol/packet.js';
import { fail } from './app-command.js';
import { axisOf, type Model } from './model.js';
import { checkPositionReply } from './reply-checks.js';
import type { Rig } from './rig.js';

/**
 * Make an axis' model exact again: consume the STAGE_MOTION_STOPPED of a move still
 * pending (after STAGE_WAIT_FOR_MOTION, whose reply the simulator sends only after that
 * event), or, when the event was lost with a dropped link, read the position once.
 * Returns false when the axis stays unknown (the link kept failing).
 */
export async function settleAxis(rig: Rig, model: Model, axis: number): Promise<boolean> {
  const a = axisOf(model, axis);
  for (let attempt = 0; attempt < 5 && (a.pendingFrom !== null || a.position === undefined); attempt++) {
    if (a.pendingFrom !== null) {
      const stops = rig.stops[axis] as Packet[];
      if (stops.length <= a.pendingFrom) {
        const waited = await rig.settle('STAGE_WAIT_FOR_MOTION', rig.client.request(Command.STAGE_WAIT_FOR_MOTION));
        if (!waited.ok) {
          rig.allowError('STAGE_WAIT_FOR_MOTION', waited.error);
          continue;
        }
      }
      const event = stops[a.pendingFrom];
      if (stops.length > a.pendingFrom + 1) fail(`axis ${axis}: ${stops.length - a.pendingFrom} STAGE_MOTION_STOPPED for one move`);
      a.pendingFrom = null;
      // No event although the motion is over: the move never ran, or its event went to a dropped link.
      a.position = event === undefined ? undefined : event.value;
      continue;
    }
    const read = await rig.settle('STAGE_POSITION_GET', rig.client.request(Command.STAGE_POSITION_GET, { int32Data0: axis }));
    if (!read.ok) {
      rig.allowError('STAGE_POSITION_GET (settle)', read.error);
      continue;
    }
    checkPositionReply(read.value, axis, undefined);
    a.position = read.value.value;
  }
  return a.pendingFrom === null && a.position !== undefined;
}
