import { dataText } from '../../../protocol/codec.js';
import { Command } from '../../../protocol/commands.js';
import { STATUS_OK } from '../../../protocol/constants.js';
import { formatLaserLevel, isLaserLevelError, parseLaserLevel } from '../../../protocol/laser-level.js';
import type { FlamingoClient } from '../client.js';
import { ArgumentError, ProtocolError } from '../../errors.js';
import { checkFinite, checkLaser } from './validate.js';

/** Laser power levels, built on request only. */
export class LaserHelper {
  constructor(private readonly client: FlamingoClient) {}

  /**
   * Set laser `laser` (1..4) to `percent` (0..100), sent as the two-decimal text the
   * firmware expects ("5.00"). ProtocolError on a failure status.
   */
  async setLevel(laser: number, percent: number): Promise<void> {
    checkLaser(laser, 'LASER_LEVEL_SET');
    checkFinite('percent', percent, 'LASER_LEVEL_SET');
    if (percent < 0 || percent > 100) throw new ArgumentError(`percent must be 0..100, got ${percent}`, 'LASER_LEVEL_SET');
    await this.client.request(Command.LASER_LEVEL_SET, { int32Data0: laser, data: formatLaserLevel(percent) }, { expectOk: true });
  }

  /**
   * Level of laser `laser` in percent. A failure status or the firmware's "getLevel error"
   * text gives ProtocolError. In lease mode see spec/correlation.md: a level pushed for the
   * same laser during a workflow may answer instead of the reply (same laser, same moment).
   */
  async level(laser: number): Promise<number> {
    checkLaser(laser, 'LASER_LEVEL_GET');
    const reply = await this.client.request(Command.LASER_LEVEL_GET, { int32Data0: laser });
    const text = dataText(reply).trim();
    if (reply.status !== STATUS_OK || isLaserLevelError(text)) {
      throw new ProtocolError(`laser ${laser} level unavailable: ${text || `status ${reply.status}`}`, reply, { command: 'LASER_LEVEL_GET' });
    }
    const level = parseLaserLevel(text);
    if (level === undefined) throw new ProtocolError(`laser ${laser} level is not a number: "${text}"`, reply, { command: 'LASER_LEVEL_GET' });
    return level;
  }
}
