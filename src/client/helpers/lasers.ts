import { dataText } from '../../../protocol/codec.js';
import { Command } from '../../../protocol/commands.js';
import { STATUS_OK } from '../../../protocol/constants.js';
import { Flags } from '../../../protocol/flags.js';
import type { Packet } from '../../../protocol/packet.js';
import type { FlamingoClient } from '../client.js';
import { ArgumentError, ConnectionClosedError, ProtocolError } from '../../errors.js';
import { issue } from './reply-rule.js';
import { checkFinite, checkLaser } from './validate.js';
import { formatLaserLevel, isLaserLevelError, parseLaserLevel } from '../../../protocol/laser-level.js';

/** Laser power levels, built on request only. */
export class LaserHelper {
  /** The last setLevel of each laser: a set and its read-back must not interleave with another set of that laser. */
  private readonly pending = new Map<number, Promise<unknown>>();

  constructor(private readonly client: FlamingoClient) {}

  /**
   * Set laser `laser` (1..4) to `percent` (0..100) and resolve with the level read back.
   * The instrument never acknowledges LASER_LEVEL_SET (spec/commands.json reply `never`),
   * so it is written (two-decimal text "5.00", callback flag set as the public client
   * does) and not waited for; then LASER_LEVEL_GET reads the level, which comes back
   * quantised (10.00 reads like 10.55). ProtocolError when the level read differs from
   * `percent` by more than `tolerance` percentage points (default 1).
   */
  async setLevel(laser: number, percent: number, options: { tolerance?: number } = {}): Promise<number> {
    checkLaser(laser, 'LASER_LEVEL_SET');
    checkFinite('percent', percent, 'LASER_LEVEL_SET');
    if (percent < 0 || percent > 100) throw new ArgumentError(`percent must be 0..100, got ${percent}`, 'LASER_LEVEL_SET');
    const tolerance = options.tolerance ?? DEFAULT_LEVEL_TOLERANCE;
    checkFinite('tolerance', tolerance, 'LASER_LEVEL_SET');
    if (tolerance < 0) throw new ArgumentError(`tolerance must be >= 0, got ${tolerance}`, 'LASER_LEVEL_SET');
    const before = this.pending.get(laser) ?? Promise.resolve();
    const turn = before.catch(() => undefined).then(() => this.setAndReadBack(laser, percent));
    this.pending.set(laser, turn);
    let reply: Packet;
    try {
      reply = await turn;
    } finally {
      if (this.pending.get(laser) === turn) this.pending.delete(laser);
    }
    const level = levelOf(reply, laser);
    if (Math.abs(level - percent) > tolerance) {
      throw new ProtocolError(`laser ${laser} reads ${level} % after being set to ${percent} % (tolerance ${tolerance})`, reply, {
        command: 'LASER_LEVEL_SET',
      });
    }
    return level;
  }

  /**
   * Write the set, then read the level back. The set is never answered, so a link lost
   * between its write and the read-back's reply leaves it unknown whether it reached the
   * instrument; the read-back on the new link would then report the old level. The set is
   * absolute (idempotent), so it is written again on the new link (spec/protocol.md
   * "Our choices"), at most {@link LASER_SET_ATTEMPTS} times.
   */
  private async setAndReadBack(laser: number, percent: number): Promise<Packet> {
    let lost = 0;
    const onLost = (): void => {
      lost++;
    };
    this.client.on('disconnect', onLost);
    try {
      for (let attempt = 1; ; attempt++) {
        const lostBefore = lost;
        await this.client.send(Command.LASER_LEVEL_SET, { int32Data0: laser, data: formatLaserLevel(percent), cmdDataBits0: Flags.TRIGGER_CALL_BACK });
        const reply = await this.client.request(Command.LASER_LEVEL_GET, { int32Data0: laser });
        if (lost === lostBefore) return reply;
        if (attempt === LASER_SET_ATTEMPTS) {
          throw new ConnectionClosedError(`laser ${laser}: the link dropped after each of ${LASER_SET_ATTEMPTS} sets before its read-back`, true, {
            command: 'LASER_LEVEL_SET',
          });
        }
      }
    } finally {
      this.client.off('disconnect', onLost);
    }
  }

  /**
   * Level of laser `laser` in percent. A failure status or the firmware's "getLevel error"
   * text gives ProtocolError. In lease mode see spec/correlation.md: a level pushed for the
   * same laser during a workflow may answer instead of the reply (same laser, same moment).
   */
  async level(laser: number): Promise<number> {
    checkLaser(laser, 'LASER_LEVEL_GET');
    const reply = await this.client.request(Command.LASER_LEVEL_GET, { int32Data0: laser });
    return levelOf(reply, laser);
  }

  /**
   * LASER_PREVIEW_ENABLE (0x2004) for laser 1..4: the instrument switches the other lines off,
   * puts this one on external trigger and moves the filter wheel to its slot. Never
   * acknowledged: resolves once written.
   */
  async preview(laser: number): Promise<void> {
    checkLaser(laser, 'LASER_PREVIEW_ENABLE');
    await issue(this.client, Command.LASER_PREVIEW_ENABLE, { int32Data0: laser });
  }

  /** LASER_ALL_DISABLE (0x2007) once per laser 1..4, as the public client does. Never acknowledged. */
  async allOff(): Promise<void> {
    for (let laser = 1; laser <= 4; laser++) await issue(this.client, Command.LASER_ALL_DISABLE, { int32Data0: laser });
  }
}

/** How many times setLevel writes the set when the link keeps dropping before its read-back. */
export const LASER_SET_ATTEMPTS = 3;

/** Default tolerance of {@link LaserHelper.setLevel}, in percentage points (read-backs seen 0.7 off). */
export const DEFAULT_LEVEL_TOLERANCE = 1;

/** The level text of a LASER_LEVEL_GET answer as a number; ProtocolError for "getLevel error" or junk. */
function levelOf(reply: Packet, laser: number): number {
  const text = dataText(reply).trim();
  if (isLaserLevelError(text) || (reply.status !== STATUS_OK && text === '')) {
    throw new ProtocolError(`laser ${laser} level unavailable: ${text || `status ${reply.status}`}`, reply, { command: 'LASER_LEVEL_GET' });
  }
  const level = parseLaserLevel(text);
  if (level === undefined) throw new ProtocolError(`laser ${laser} level is not a number: "${text}"`, reply, { command: 'LASER_LEVEL_GET' });
  return level;
}
