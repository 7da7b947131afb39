import { ArgumentError } from './errors.js';

/**
 * The one home of the laser level's text form (spec/text-format.md "Laser level text"):
 * LASER_LEVEL_SET carries the percent as text with two decimals ("5.00"), LASER_LEVEL_GET
 * answers the same form ("10.67"), or the firmware's "getLevel error" for a laser it cannot read.
 */

/** What the firmware writes in LASER_LEVEL_GET's data field when it cannot read a level. */
export const LASER_LEVEL_ERROR_TEXT = 'getLevel error';

// A plain decimal, optionally signed: no exponent, hex or thousands separator, which Number()
// would otherwise accept or misread. Surrounding whitespace is allowed (the field is NUL-padded).
const LEVEL_TEXT = /^\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)\s*$/;

/** A laser level read from its text, or undefined ("getLevel error", '', anything not a plain decimal). */
export function parseLaserLevel(text: string): number | undefined {
  if (!LEVEL_TEXT.test(text)) return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}

/** True when the text is the firmware's "getLevel error" answer. */
export function isLaserLevelError(text: string): boolean {
  return text.trim() === LASER_LEVEL_ERROR_TEXT;
}

/**
 * The text form of a level, as the instrument writes it: two decimals ("5.00", "10.67").
 * @throws ArgumentError for NaN or an infinity, which have no level text.
 */
export function formatLaserLevel(percent: number): string {
  if (!Number.isFinite(percent)) throw new ArgumentError(`a laser level must be a finite number, got ${percent}`);
  return percent.toFixed(2);
}
