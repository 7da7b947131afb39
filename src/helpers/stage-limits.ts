import { findSection, parseNumberValue, parseTextFormat, readStageSettings, type AxisSettings, type TextSection } from '../../protocol/text-format.js';

/** Limits and named positions of one axis, from the instrument's `<Stage limits>` settings. */
export interface StageAxisLimits {
  softMin: number;
  softMax: number;
  hardMin: number;
  hardMax: number;
  home: number;
  unload: number;
  defaultVelocity: number;
}

/** Axis name as used by the vocabulary: x, y, z in mm, r in degrees. */
export type AxisKey = 'x' | 'y' | 'z' | 'r';
/** The four axes' limits. */
export type StageLimits = Readonly<Record<AxisKey, Readonly<StageAxisLimits>>>;
/** Axis keys in protocol order (axis 1..4). */
export const AXIS_KEYS: readonly AxisKey[] = ['x', 'y', 'z', 'r'];

/** `Hard limit min|max <axis>` when the text has it (matched by words, units ignored). */
function hardLimit(section: TextSection | undefined, bound: 'min' | 'max', letter: string): number | undefined {
  if (section === undefined) return undefined;
  const wanted = `hard limit ${bound} ${letter}`.toLowerCase();
  for (const item of section.items) {
    if (item.kind !== 'entry') continue;
    const bare = item.key.replace(/\s*\([^)]*\)\s*$/, '').replace(/-axis$/i, '').toLowerCase();
    if (bare === wanted) return parseNumberValue(item.value);
  }
  return undefined;
}

/**
 * Stage limits from a settings text. Soft limits, home, unload and default velocity come
 * from readStageSettings; hard limits from `Hard limit min|max` keys, or equal to the soft
 * limits when the text has none (spec/vocabulary.md "Stage").
 * @throws TextFormatError when the `<Stage limits>` section or a value is missing.
 */
export function parseStageLimits(settingsText: string): StageLimits {
  const doc = parseTextFormat(settingsText);
  const axes: AxisSettings[] = readStageSettings(doc);
  const section = findSection(doc.root, 'Stage limits');
  const letters = ['x', 'y', 'z', 'r'];
  const out = {} as Record<AxisKey, StageAxisLimits>;
  AXIS_KEYS.forEach((key, i) => {
    const a = axes[i] as AxisSettings;
    const letter = letters[i] as string;
    out[key] = Object.freeze({
      softMin: a.min,
      softMax: a.max,
      hardMin: hardLimit(section, 'min', letter) ?? a.min,
      hardMax: hardLimit(section, 'max', letter) ?? a.max,
      home: a.home,
      unload: a.unload,
      defaultVelocity: a.defaultVelocity,
    });
  });
  return Object.freeze(out);
}
