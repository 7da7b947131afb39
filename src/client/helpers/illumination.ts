import { Command } from '../../../protocol/commands.js';
import type { FlamingoClient } from '../client.js';
import { ArgumentError } from '../../errors.js';
import { issue, type Issuer } from './reply-rule.js';
import { checkFinite, checkLaser } from './validate.js';

/** LED colour as int32Data0 of LED_SET: 0 red, 1 green, 2 blue, 3 white. */
export const LedColour = { red: 0, green: 1, blue: 2, white: 3 } as const;
/** 0 red, 1 green, 2 blue, 3 white. */
export type LedColourIndex = (typeof LedColour)[keyof typeof LedColour];

/** DAC value of 0 %: below it the LED stays dark (spec/vocabulary.md "LED"). */
export const LED_DAC_MIN = 32000;
/** DAC value of 100 %. */
export const LED_DAC_MAX = 65534;

/** Which light-sheet path: the left or the right illumination arm. */
export type IlluminationPath = 'left' | 'right';

/** What {@link IlluminationHelper.prepareLive} switches on: one laser or the LED, and a path. */
export interface LivePreparation {
  /** A laser line 1..4, optionally at a power in percent (0..100) set before it is enabled. */
  laser?: { index: number; percent?: number };
  /** The LED in a colour at a brightness in percent. */
  led?: { colour: number; percent: number };
  path: IlluminationPath;
}

function checkPercent(percent: number, command: string): void {
  checkFinite('percent', percent, command);
  if (percent < 0 || percent > 100) throw new ArgumentError(`percent must be 0..100, got ${percent}`, command);
}

function checkColour(colour: number): asserts colour is LedColourIndex {
  if (!Number.isInteger(colour) || colour < 0 || colour > 3)
    throw new ArgumentError(`LED colour must be 0 red, 1 green, 2 blue or 3 white, got ${String(colour)}`, 'LED_SET');
}

function checkPath(path: unknown): asserts path is IlluminationPath {
  if (path !== 'left' && path !== 'right') throw new ArgumentError(`path must be 'left' or 'right', got ${String(path)}`, 'ILLUMINATION_LEFT_ENABLE');
}

/** The LED DAC value for a brightness in percent: linear, 0 % → 32000, 100 % → 65534, rounded. */
export function ledDac(percent: number): number {
  checkPercent(percent, 'LED_SET');
  return Math.round(LED_DAC_MIN + (percent / 100) * (LED_DAC_MAX - LED_DAC_MIN));
}

async function setLed(via: Issuer, colour: number, percent: number): Promise<void> {
  await issue(via, Command.LED_SET, { int32Data0: colour, int32Data1: ledDac(percent) });
}

/** The transmitted-light LED (acknowledged commands). */
export class LedHelper {
  constructor(private readonly client: FlamingoClient) {}

  /** LED_SET: colour (0 red, 1 green, 2 blue, 3 white) in int32Data0, DAC value of `percent` in int32Data1. */
  async set(colour: number, percent: number): Promise<void> {
    checkColour(colour);
    checkPercent(percent, 'LED_SET');
    await setLed(this.client, colour, percent);
  }

  /** LED_ENABLE (0x4002): the selected colour lights (live view is not needed for the LED). */
  async enable(): Promise<void> {
    await issue(this.client, Command.LED_ENABLE);
  }

  /** LED_DISABLE (0x4003). */
  async disable(): Promise<void> {
    await issue(this.client, Command.LED_DISABLE);
  }
}

const PATH_CODES = {
  left: [Command.ILLUMINATION_LEFT_ENABLE, Command.ILLUMINATION_LEFT_DISABLE],
  right: [Command.ILLUMINATION_RIGHT_ENABLE, Command.ILLUMINATION_RIGHT_DISABLE],
} as const;

/** Illumination paths and the sequence that prepares a source for live view. */
export class IlluminationHelper {
  constructor(private readonly client: FlamingoClient) {}

  /** ILLUMINATION_LEFT_ENABLE (0x7004) or _DISABLE (0x7005). */
  async left(on: boolean): Promise<void> {
    await this.path('left', on);
  }

  /** ILLUMINATION_RIGHT_ENABLE (0x7006) or _DISABLE (0x7007). */
  async right(on: boolean): Promise<void> {
    await this.path('right', on);
  }

  /**
   * The sequence the instrument needs before live view, in one exclusive section: every
   * source and the left path off (LASER_ALL_DISABLE × 4, LED_DISABLE, ILLUMINATION_LEFT_DISABLE:
   * the sequence the public client runs on the instrument; the right-path disable 0x7007 is
   * inferred and never seen answered, so it is left out, see spec/vocabulary.md), then
   * the source (laser: level if given, then LASER_PREVIEW_ENABLE; LED: LED_SET, LED_ENABLE),
   * then the path. Exactly one of `laser` and `led`. Everything is checked before anything
   * is sent. Laser commands are never acknowledged and are not waited for.
   */
  async prepareLive(prep: LivePreparation): Promise<void> {
    if (typeof prep !== 'object' || prep === null) throw new ArgumentError('prepareLive needs { laser | led, path }');
    checkPath(prep.path);
    if ((prep.laser === undefined) === (prep.led === undefined)) throw new ArgumentError('prepareLive needs exactly one of laser and led');
    if (prep.laser !== undefined) {
      checkLaser(prep.laser.index, 'LASER_PREVIEW_ENABLE');
      if (prep.laser.percent !== undefined) checkPercent(prep.laser.percent, 'LASER_LEVEL_SET');
    }
    if (prep.led !== undefined) {
      checkColour(prep.led.colour);
      checkPercent(prep.led.percent, 'LED_SET');
    }
    const { laser, led, path } = prep;
    await this.client.exclusive(async (tx) => {
      for (let index = 1; index <= 4; index++) await issue(tx, Command.LASER_ALL_DISABLE, { int32Data0: index });
      await issue(tx, Command.LED_DISABLE);
      await issue(tx, Command.ILLUMINATION_LEFT_DISABLE);
      if (laser !== undefined) {
        if (laser.percent !== undefined) await issue(tx, Command.LASER_LEVEL_SET, { int32Data0: laser.index, data: laser.percent.toFixed(2) });
        await issue(tx, Command.LASER_PREVIEW_ENABLE, { int32Data0: laser.index });
      } else if (led !== undefined) {
        await setLed(tx, led.colour, led.percent);
        await issue(tx, Command.LED_ENABLE);
      }
      await issue(tx, PATH_CODES[path][0]);
    });
  }

  private async path(path: IlluminationPath, on: boolean): Promise<void> {
    if (typeof on !== 'boolean')
      throw new ArgumentError(
        `on must be true or false, got ${String(on)}`,
        PATH_CODES[path][0] === Command.ILLUMINATION_LEFT_ENABLE ? 'ILLUMINATION_LEFT_ENABLE' : 'ILLUMINATION_RIGHT_ENABLE',
      );
    await issue(this.client, PATH_CODES[path][on ? 0 : 1]);
  }
}
