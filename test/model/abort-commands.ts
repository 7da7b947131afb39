import { Command } from '../../protocol/commands.js';
import type { Packet } from '../../protocol/packet.js';
import { AbortError, TimeoutError } from '../../src/errors.js';
import { AppCommand, fail, step } from './app-command.js';
import { axisOf, type Model } from './model.js';
import { checkPositionReply } from './reply-checks.js';
import type { Rig } from './rig.js';
import { settleAxis } from './settle-axis.js';

/** When the AbortSignal fires relative to the request. */
export type AbortWhen = 'before' | 'sync' | 'microtask' | 'immediate';

/** A GET aborted at some point: AbortError or the exact reply, never another packet. */
export class AbortedRead extends AppCommand {
  constructor(
    readonly axis: number,
    readonly when: AbortWhen,
  ) {
    super();
  }
  async run(model: Model, rig: Rig): Promise<void> {
    await step(rig, this.toString(), async () => {
      const controller = new AbortController();
      if (this.when === 'before') controller.abort();
      const request = rig.client.request(Command.STAGE_POSITION_GET, { int32Data0: this.axis }, { signal: controller.signal });
      if (this.when === 'sync') controller.abort();
      else if (this.when === 'microtask') queueMicrotask(() => controller.abort());
      else if (this.when === 'immediate') setImmediate(() => controller.abort());
      const result = await rig.settle('aborted GET', request);
      if (result.ok) {
        const a = axisOf(model, this.axis);
        if (this.when === 'before' || this.when === 'sync') fail(`GET aborted ${this.when} resolved`);
        checkPositionReply(result.value, this.axis, a.pendingFrom === null ? a.position : undefined);
      } else if (result.error instanceof AbortError) {
        rig.recordLate(result.error, 'STAGE_POSITION_GET');
      } else rig.allowError('aborted GET', result.error);
    });
  }
  toString(): string {
    return `abortedRead(${this.axis}, ${this.when})`;
  }
}

/** A tiny timeoutMs against a reply delayed on purpose: TimeoutError, and the late reply never answers anyone else. */
export class TimedOutRead extends AppCommand {
  constructor(readonly axis: number) {
    super();
  }
  async run(model: Model, rig: Rig): Promise<void> {
    await step(rig, this.toString(), async () => {
      const id = rig.currentConnectionId;
      if (id === undefined || !rig.client.isConnected) return;
      rig.sim.setFaults(id, { ...rig.profile.faults, delay: { min: 40, max: 40 } });
      const result = await rig.settle('timed-out GET', rig.client.request(Command.STAGE_POSITION_GET, { int32Data0: this.axis }, { timeoutMs: 2 }));
      if (rig.currentConnectionId === id) rig.sim.setFaults(id, rig.profile.faults);
      if (result.ok) {
        // Only possible when the link dropped and the request went out again on a new connection without the delay.
        if (!rig.profile.reconnect) fail(`GET with timeoutMs 2 against a 40 ms reply delay resolved`);
        const a = axisOf(model, this.axis);
        checkPositionReply(result.value, this.axis, a.pendingFrom === null ? a.position : undefined);
      } else if (result.error instanceof TimeoutError) {
        rig.recordLate(result.error, 'STAGE_POSITION_GET');
      } else rig.allowError('timed-out GET', result.error);
    });
  }
  toString(): string {
    return `timedOutRead(${this.axis})`;
  }
}

/** stage.moveTo aborted at some point: the exact result, or AbortError and the axis re-learnt. */
export class AbortedMove extends AppCommand {
  constructor(
    readonly axis: number,
    readonly target: number,
    readonly when: AbortWhen,
  ) {
    super();
  }
  async run(model: Model, rig: Rig): Promise<void> {
    await step(rig, this.toString(), async () => {
      if (!(await settleAxis(rig, model, this.axis))) return;
      const a = axisOf(model, this.axis);
      const before = (rig.stops[this.axis] as Packet[]).length;
      const disconnects = rig.disconnects;
      const controller = new AbortController();
      if (this.when === 'before') controller.abort();
      rig.issue(Command.STAGE_POSITION_SET);
      if (this.target === 0) rig.issue(Command.STAGE_POSITION_GET);
      const move = rig.client.stage.moveTo(this.axis, this.target, { motionTimeoutMs: rig.profile.eventTimeoutMs, signal: controller.signal });
      if (this.when === 'sync') controller.abort();
      else if (this.when === 'microtask') queueMicrotask(() => controller.abort());
      else if (this.when === 'immediate') setImmediate(() => controller.abort());
      const result = await rig.settle('aborted moveTo', move);
      if (result.ok) {
        if (this.when === 'before' || this.when === 'sync') fail(`moveTo aborted ${this.when} resolved`);
        if (!Object.is(result.value.position, this.target)) fail(`aborted moveTo(${this.axis}, ${this.target}) resolved at ${result.value.position}`);
        a.position = this.target;
        return;
      }
      if (result.error instanceof AbortError) rig.recordLate(result.error, 'STAGE_POSITION_SET');
      else rig.allowError(this.toString(), result.error, disconnects);
      // Written or not, moving or not: the next use of the axis finds out.
      a.pendingFrom = before;
      a.position = undefined;
    });
  }
  toString(): string {
    return `abortedMove(${this.axis}, ${this.target}, ${this.when})`;
  }
}
