import { Command } from '../../protocol/commands.js';
import type { Packet } from '../../protocol/packet.js';
import { ProtocolError } from '../../src/errors.js';
import { AppCommand, fail, step } from './app-command.js';
import { axisOf, LIMITS, type Model } from './model.js';
import { checkPositionReply } from './reply-checks.js';
import type { Rig } from './rig.js';
import { settleAxis } from './settle-axis.js';

/** stage.moveTo: resolves with the target exactly, after the axis' own STAGE_MOTION_STOPPED. */
export class MoveTo extends AppCommand {
  constructor(
    readonly axis: number,
    readonly target: number,
  ) {
    super();
  }
  async run(model: Model, rig: Rig): Promise<void> {
    await step(rig, this.toString(), async () => {
      if (!(await settleAxis(rig, model, this.axis))) return;
      const a = axisOf(model, this.axis);
      const before = (rig.stops[this.axis] as Packet[]).length;
      const disconnects = rig.disconnects;
      rig.issue(Command.STAGE_POSITION_SET);
      // The helper reads the position back when the event's value is 0 (R axis at 0°).
      if (this.target === 0) rig.issue(Command.STAGE_POSITION_GET);
      const result = await rig.settle('stage.moveTo', rig.client.stage.moveTo(this.axis, this.target, { motionTimeoutMs: rig.profile.eventTimeoutMs }));
      if (result.ok) {
        const r = result.value;
        if (r.axis !== this.axis || !r.reached || !Object.is(r.position, this.target)) fail(`moveTo(${this.axis}, ${this.target}) = ${JSON.stringify(r)}`);
        a.position = this.target;
        if ((rig.stops[this.axis] as Packet[]).length !== before + 1)
          fail(`moveTo(${this.axis}): ${(rig.stops[this.axis] as Packet[]).length - before} stop events`);
        return;
      }
      rig.allowError(this.toString(), result.error, disconnects);
      a.pendingFrom = before;
      a.position = undefined;
    });
  }
  toString(): string {
    return `moveTo(${this.axis}, ${this.target})`;
  }
}

/**
 * stage.moveBy (read, move, wait inside one exclusive section) with a read of another axis
 * issued right behind it: the read waits for the section and is exact; the move starts
 * from the model's position exactly, or is refused (ProtocolError) outside the limits.
 */
export class MoveBy extends AppCommand {
  constructor(
    readonly axis: number,
    readonly delta: number,
    readonly otherAxis: number,
  ) {
    super();
  }
  async run(model: Model, rig: Rig): Promise<void> {
    await step(rig, this.toString(), async () => {
      if (!(await settleAxis(rig, model, this.axis)) || !(await settleAxis(rig, model, this.otherAxis))) return;
      const a = axisOf(model, this.axis);
      const from = a.position as number;
      const target = from + this.delta;
      const [min, max] = LIMITS[this.axis] as readonly [number, number];
      const inside = target >= min && target <= max;
      const before = (rig.stops[this.axis] as Packet[]).length;
      const disconnects = rig.disconnects;
      rig.issue(Command.STAGE_POSITION_SET);
      if (target === 0) rig.issue(Command.STAGE_POSITION_GET);
      const move = rig.client.stage.moveBy(this.axis, this.delta, { motionTimeoutMs: rig.profile.eventTimeoutMs });
      const read = rig.client.request(Command.STAGE_POSITION_GET, { int32Data0: this.otherAxis });
      const [moved, other] = await Promise.all([rig.settle('stage.moveBy', move), rig.settle('GET other axis', read)]);
      if (moved.ok) {
        const r = moved.value;
        if (!inside) fail(`moveBy(${this.axis}, ${this.delta}) from ${from} to ${target} outside ${min}..${max} resolved`);
        if (!Object.is(r.from, from) || !Object.is(r.target, target) || !Object.is(r.position, target) || !r.reached) {
          fail(`moveBy(${this.axis}, ${this.delta}) from ${from}: ${JSON.stringify(r)}`);
        }
        a.position = target;
      } else if (moved.error instanceof ProtocolError && !inside && moved.error.reply.code === Command.STAGE_POSITION_SET && moved.error.reply.status === 0) {
        // Refused: no motion, no event; the axis stays where it was.
        if ((rig.stops[this.axis] as Packet[]).length !== before) fail(`refused moveBy(${this.axis}) produced a stop event`);
      } else {
        rig.allowError(this.toString(), moved.error, disconnects);
        a.pendingFrom = before;
        a.position = undefined;
      }
      // The other axis' read: exact. On the moved axis itself it reads the position before
      // or after the whole section (never one in between), depending on which got the link first.
      const o = axisOf(model, this.otherAxis);
      if (!other.ok) rig.allowError('GET other axis', other.error);
      else if (this.otherAxis !== this.axis || !moved.ok) checkPositionReply(other.value, this.otherAxis, o.pendingFrom === null ? o.position : undefined);
      else if (!Object.is(other.value.value, from)) checkPositionReply(other.value, this.otherAxis, target);
    });
  }
  toString(): string {
    return `moveBy(${this.axis}, ${this.delta}, read ${this.otherAxis})`;
  }
}

/** A move written without waiting, HALT right behind it: one stop event, and the GET agrees with it exactly. */
export class MoveThenHalt extends AppCommand {
  constructor(
    readonly axis: number,
    readonly target: number,
  ) {
    super();
  }
  async run(model: Model, rig: Rig): Promise<void> {
    await step(rig, this.toString(), async () => {
      if (!(await settleAxis(rig, model, this.axis))) return;
      const a = axisOf(model, this.axis);
      const from = a.position as number;
      const stopIndex = (rig.stops[this.axis] as Packet[]).length;
      const disconnects = rig.disconnects;
      a.pendingFrom = stopIndex;
      rig.issue(Command.STAGE_POSITION_SET);
      rig.issue(Command.STAGE_HALT);
      const move = rig.client.request(Command.STAGE_POSITION_SET, { int32Data0: this.axis, value: this.target });
      const halt = rig.client.stage.halt();
      const [moved, halted] = await Promise.all([rig.settle('move', move), rig.settle('stage.halt', halt)]);
      if (moved.ok) {
        const ack = moved.value;
        if (ack.code !== Command.STAGE_POSITION_SET || ack.int32Data0 !== this.axis || ack.status !== 1) fail(`move ack ${JSON.stringify(ack)}`);
      } else rig.allowError('move', moved.error);
      if (!halted.ok) rig.allowError('stage.halt', halted.error);
      if (!(await settleAxis(rig, model, this.axis))) return;
      const stop = (rig.stops[this.axis] as Packet[])[stopIndex];
      const position = a.position as number;
      // An acknowledged move always ends in one STAGE_MOTION_STOPPED, unless the simulator
      // sent it while the link was down (reconnect profile).
      if (moved.ok && stop === undefined && rig.disconnects === disconnects)
        fail(`axis ${this.axis}: acknowledged move to ${this.target} sent no STAGE_MOTION_STOPPED`);
      if (moved.ok && stop !== undefined) {
        // Reached (status 1, exactly the target) or halted on the way (status 0, between).
        const lo = Math.min(from, this.target);
        const hi = Math.max(from, this.target);
        if (stop.status === 1 ? !Object.is(stop.value, this.target) : !(stop.value >= lo && stop.value <= hi)) {
          fail(`axis ${this.axis} stopped with status ${stop.status} at ${stop.value} moving ${from} → ${this.target}`);
        }
      }
      const read = await rig.settle('GET after halt', rig.client.request(Command.STAGE_POSITION_GET, { int32Data0: this.axis }));
      if (read.ok) checkPositionReply(read.value, this.axis, position);
      else rig.allowError('GET after halt', read.error);
    });
  }
  toString(): string {
    return `moveThenHalt(${this.axis}, ${this.target})`;
  }
}

/** stage.halt() with nothing (or something) moving: status 1. */
export class Halt extends AppCommand {
  async run(_model: Model, rig: Rig): Promise<void> {
    await step(rig, this.toString(), async () => {
      rig.issue(Command.STAGE_HALT);
      const result = await rig.settle('stage.halt', rig.client.stage.halt());
      if (!result.ok) rig.allowError('stage.halt', result.error);
    });
  }
  toString(): string {
    return 'halt()';
  }
}
