import { Command } from '../../protocol/commands.js';
import type { Packet } from '../../protocol/packet.js';
import { TimeoutError } from '../../src/errors.js';
import { AppCommand, fail, step } from './app-command.js';
import { axisOf, type Model } from './model.js';
import type { Rig } from './rig.js';
import { settleAxis } from './settle-axis.js';

/** waitFor armed before a raw zero-length move: the event for that axis, status 1, the exact position. */
export class WaitForMotion extends AppCommand {
  constructor(readonly axis: number) {
    super();
  }
  async run(model: Model, rig: Rig): Promise<void> {
    await step(rig, this.toString(), async () => {
      if (!(await settleAxis(rig, model, this.axis))) return;
      const a = axisOf(model, this.axis);
      const here = a.position as number;
      a.pendingFrom = (rig.stops[this.axis] as Packet[]).length;
      const disconnects = rig.disconnects;
      const stopped = rig.client.waitFor((p) => p.code === Command.STAGE_MOTION_STOPPED && p.int32Data0 === this.axis, {
        timeoutMs: rig.profile.eventTimeoutMs,
      });
      // Observed below; handled now so a rejection while the ack is awaited is not "unhandled".
      // Stop events recorded when the waiter gave up: an event already there was missed.
      let stopsAtTimeout = -1;
      stopped.catch(() => {
        stopsAtTimeout = (rig.stops[this.axis] as Packet[]).length;
      });
      rig.issue(Command.STAGE_POSITION_SET);
      const ack = await rig.settle('zero move', rig.client.request(Command.STAGE_POSITION_SET, { int32Data0: this.axis, value: here }));
      if (!ack.ok) {
        // The move may still have run: its event may come, or the waitFor times out.
        rig.allowError('zero move', ack.error);
        return;
      }
      const event = await rig.settle('waitFor', stopped);
      if (!event.ok) {
        if (event.error instanceof TimeoutError && rig.disconnects === disconnects) {
          // The event budget also covers the ack's round trip, which a loaded machine can
          // exceed: allowed only when the event had not come yet and does come (it follows
          // the ack on the stream, so it is there once a later reply is).
          if (stopsAtTimeout > a.pendingFrom) fail(`waitFor motion of axis ${this.axis} timed out with its event already received`);
          const from = a.pendingFrom;
          await settleAxis(rig, model, this.axis);
          if ((rig.stops[this.axis] as Packet[]).length <= from && rig.disconnects === disconnects)
            fail(`zero move of axis ${this.axis}: STAGE_MOTION_STOPPED never came`);
          return;
        }
        rig.allowError(`waitFor motion of axis ${this.axis}`, event.error, disconnects);
        return;
      }
      const p = event.value;
      if (p.status !== 1 || p.int32Data0 !== this.axis || !Object.is(p.value, here))
        fail(`zero move of axis ${this.axis} at ${here}: event ${JSON.stringify({ status: p.status, axis: p.int32Data0, value: p.value })}`);
      a.pendingFrom = null;
      a.position = here;
    });
  }
  toString(): string {
    return `waitForMotion(${this.axis})`;
  }
}

/** waitFor an event that cannot come (no workflow runs): TimeoutError, nothing else. */
export class WaitForNothing extends AppCommand {
  async run(_model: Model, rig: Rig): Promise<void> {
    await step(rig, this.toString(), async () => {
      if (rig.workflowMaybeRunning) return;
      const result = await rig.settle('waitFor idle', rig.client.waitFor(Command.SYSTEM_STATE_IDLE, { timeoutMs: 3 }));
      if (result.ok) fail(`waitFor(SYSTEM_STATE_IDLE) resolved with no workflow running: 0x${result.value.code.toString(16)}`);
      if (!(result.error instanceof TimeoutError)) fail(`waitFor(SYSTEM_STATE_IDLE) rejected with ${result.error.name}, not TimeoutError`);
    });
  }
  toString(): string {
    return 'waitForNothing()';
  }
}
