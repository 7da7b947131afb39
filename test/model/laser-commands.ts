import { Command } from '../../protocol/commands.js';
import { LASER_SET_ATTEMPTS } from '../../src/client/helpers/lasers.js';
import { AppCommand, fail, step } from './app-command.js';
import type { Model } from './model.js';
import { checkLaserReply } from './reply-checks.js';
import type { Rig } from './rig.js';

/** lasers.setLevel then lasers.level and a raw GET: the level reads back exactly. */
export class LaserSetGet extends AppCommand {
  constructor(
    readonly laser: number,
    readonly hundredths: number,
  ) {
    super();
  }
  async run(model: Model, rig: Rig): Promise<void> {
    await step(rig, this.toString(), async () => {
      const percent = this.hundredths / 100;
      rig.issue(Command.LASER_LEVEL_SET);
      const disconnects = rig.disconnects;
      const set = await rig.settle('lasers.setLevel', rig.client.lasers.setLevel(this.laser, percent));
      // setLevel writes the set again after each link lost before its read-back (spec/protocol.md "Our choices").
      rig.issue(Command.LASER_LEVEL_SET, Math.min(rig.disconnects - disconnects, LASER_SET_ATTEMPTS - 1));
      // The instrument holds what the read-back reports (it quantises), not what was asked.
      if (set.ok) model.lasers[this.laser] = set.value;
      else {
        rig.allowError(this.toString(), set.error);
        model.lasers[this.laser] = undefined;
      }
      const [level, raw] = await Promise.all([
        rig.settle('lasers.level', rig.client.lasers.level(this.laser)),
        rig.settle('LASER_LEVEL_GET', rig.client.request(Command.LASER_LEVEL_GET, { int32Data0: this.laser })),
      ]);
      const expected = model.lasers[this.laser];
      if (level.ok) {
        if (expected !== undefined && level.value !== expected) fail(`lasers.level(${this.laser}) = ${level.value}, expected ${expected}`);
        model.lasers[this.laser] = level.value;
      } else rig.allowError('lasers.level', level.error);
      if (raw.ok) checkLaserReply(raw.value, this.laser, model.lasers[this.laser]);
      else rig.allowError('LASER_LEVEL_GET', raw.error);
    });
  }
  toString(): string {
    return `laser(${this.laser}, ${(this.hundredths / 100).toFixed(2)})`;
  }
}
