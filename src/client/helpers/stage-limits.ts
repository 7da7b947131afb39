import { readStageSettings, type AxisSettings, type StageSettings } from '../../../protocol/settings-text.js';
import { parseTextFormat } from '../../../protocol/text-format.js';

/**
 * Limits and named positions of one axis from the instrument's `<Stage limits>` settings:
 * `{ softMin, softMax, hardMin, hardMax, home, unload, defaultVelocity }`, each undefined
 * when the text lacks its key (spec/text-format.md).
 */
export type StageAxisLimits = Readonly<AxisSettings>;
/** Axis name as used by the vocabulary: x, y, z in mm, r in degrees. */
export type AxisKey = keyof StageSettings;
/** The four axes' limits. */
export type StageLimits = Readonly<Record<AxisKey, StageAxisLimits>>;
/** Axis keys in protocol order (axis 1..4). */
export const AXIS_KEYS: readonly AxisKey[] = ['x', 'y', 'z', 'r'];

/**
 * Stage limits from a settings text, read by the settings reader and frozen.
 * @throws TextFormatError when the text has no `<Stage limits>` section.
 */
export function parseStageLimits(settingsText: string): StageLimits {
  const read = readStageSettings(parseTextFormat(settingsText));
  return Object.freeze({
    x: Object.freeze({ ...read.x }),
    y: Object.freeze({ ...read.y }),
    z: Object.freeze({ ...read.z }),
    r: Object.freeze({ ...read.r }),
  });
}

/**
 * The range a move target must lie in: the soft limits, or where the text lacks one the
 * hard limit, or unbounded when it has neither (our choice: the instrument still refuses
 * a move beyond its travel, spec/vocabulary.md "Stage").
 */
export function moveBounds(limits: StageAxisLimits): { min: number; max: number } {
  return {
    min: limits.softMin ?? limits.hardMin ?? Number.NEGATIVE_INFINITY,
    max: limits.softMax ?? limits.hardMax ?? Number.POSITIVE_INFINITY,
  };
}
