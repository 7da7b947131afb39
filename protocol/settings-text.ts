import { findSection, TextFormatError, type TextDocument, type TextSection } from './text-document.js';
import { parseNumberList, parseNumberValue } from './text-values.js';

/**
 * Readers for the instrument's settings text (the `ScopeSettings` file that SCOPE_SETTINGS_LOAD
 * returns), by the key names a real instrument writes (spec/text-format.md "Settings").
 * Keys are matched exactly; an absent key or one whose value is not a number reads as
 * `undefined` rather than a guess.
 */

/** Limits, home, unload position and default velocity of one stage axis (mm, or degrees for r). */
export interface AxisSettings {
  softMin: number | undefined;
  softMax: number | undefined;
  hardMin: number | undefined;
  hardMax: number | undefined;
  home: number | undefined;
  unload: number | undefined;
  defaultVelocity: number | undefined;
}

/** The stage axes as the settings text names them (`x-axis` … `r-axis`). */
export const STAGE_AXES = ['x', 'y', 'z', 'r'] as const;
export type StageAxisName = (typeof STAGE_AXES)[number];

/** The stage axes in axis-number order (1 X, 2 Y, 3 Z, 4 R), upper case for display. */
export const STAGE_AXIS_LETTERS = ['X', 'Y', 'Z', 'R'] as const;

/** `Stage limits` of a settings text, per axis. */
export type StageSettings = Record<StageAxisName, AxisSettings>;

function numberAt(section: TextSection | undefined, key: string): number | undefined {
  if (section === undefined) return undefined;
  for (const item of section.items) if (item.kind === 'entry' && item.key === key) return parseNumberValue(item.value);
  return undefined;
}

function textAt(section: TextSection | undefined, key: string): string | undefined {
  if (section === undefined) return undefined;
  for (const item of section.items) if (item.kind === 'entry' && item.key === key) return item.value;
  return undefined;
}

/**
 * Read the `Stage limits` section: `Soft limit min x-axis`, `Hard limit max z-axis`,
 * `Home r-axis`, `Unload y-axis`, `Default velocity x-axis` and so on. The settings hold no
 * maximum velocity. A key that is absent (or not a number) is `undefined`.
 * @throws TextFormatError only when there is no `Stage limits` section at all.
 */
export function readStageSettings(doc: TextDocument): StageSettings {
  const section = findSection(doc.root, 'Stage limits');
  if (section === undefined) throw new TextFormatError('no <Stage limits> section in the settings text', 1);
  const axis = (a: StageAxisName): AxisSettings => ({
    softMin: numberAt(section, `Soft limit min ${a}-axis`),
    softMax: numberAt(section, `Soft limit max ${a}-axis`),
    hardMin: numberAt(section, `Hard limit min ${a}-axis`),
    hardMax: numberAt(section, `Hard limit max ${a}-axis`),
    home: numberAt(section, `Home ${a}-axis`),
    unload: numberAt(section, `Unload ${a}-axis`),
    defaultVelocity: numberAt(section, `Default velocity ${a}-axis`),
  });
  return { x: axis('x'), y: axis('y'), z: axis('z'), r: axis('r') };
}

/** The `Type` section: which instrument this is and its optics. */
export interface ScopeType {
  name: string | undefined;
  type: string | undefined;
  /** `Microscope address = <ip> <port>`, split. */
  address: { host: string; port: number | undefined } | undefined;
  builder: string | undefined;
  objectiveMagnification: number | undefined;
  tubeLensDesignFocalLengthMm: number | undefined;
  tubeLensLengthMm: number | undefined;
}

/** Read `Type`; every field undefined when the section is missing. */
export function readScopeType(doc: TextDocument): ScopeType {
  const s = findSection(doc.root, 'Type');
  const address = textAt(s, 'Microscope address');
  const [host, port] = address === undefined ? [] : address.trim().split(/\s+/);
  return {
    name: textAt(s, 'Microscope name'),
    type: textAt(s, 'Microscope type'),
    address: host === undefined || host === '' ? undefined : { host, port: port === undefined ? undefined : parseNumberValue(port) },
    builder: textAt(s, 'Microscope builder'),
    objectiveMagnification: numberAt(s, 'Objective lens magnification'),
    tubeLensDesignFocalLengthMm: numberAt(s, 'Tube lens design focal length (mm)'),
    tubeLensLengthMm: numberAt(s, 'Tube lens length (mm)'),
  };
}

/** The `LED settings` section. */
export interface LedSettings {
  /** 0 red, 1 green, 2 blue, 3 white. */
  selection: number | undefined;
  previewOn: string | undefined;
  recordingOn: string | undefined;
  /** Stored DAC value per colour. */
  intensity: { red: number | undefined; green: number | undefined; blue: number | undefined; white: number | undefined };
  sliderMin: number | undefined;
  sliderMax: number | undefined;
  sliderFactor: number | undefined;
}

/** Read `LED settings`; every field undefined when the section is missing. */
export function readLedSettings(doc: TextDocument): LedSettings {
  const s = findSection(doc.root, 'LED settings');
  return {
    selection: numberAt(s, 'LED selection (0 red, 1 green, 2 blue, 3 white)'),
    previewOn: textAt(s, 'Preview on'),
    recordingOn: textAt(s, 'Recording on'),
    intensity: {
      red: numberAt(s, 'Intensity red'),
      green: numberAt(s, 'Intensity green'),
      blue: numberAt(s, 'Intensity blue'),
      white: numberAt(s, 'Intensity white'),
    },
    sliderMin: numberAt(s, 'UI slider min (match LED DAC)'),
    sliderMax: numberAt(s, 'UI slider max (match LED DAC)'),
    sliderFactor: numberAt(s, 'UI slider factor adjustment'),
  };
}

/** One filter wheel position: `Filter wheel position N = <encoder> <index>` and its description. */
export interface FilterPosition {
  position: number;
  encoder: number | undefined;
  index: number | undefined;
  description: string | undefined;
}

/** The filter wheel: its positions, and which 0-based slot each laser (1..7) and the LED use. */
export interface FilterWheelSettings {
  positions: FilterPosition[];
  laserSlots: Map<number, number>;
  ledSlot: number | undefined;
}

/** Read `Filter wheel encoder counts` and `Filter wheel position assignments`. */
export function readFilterWheel(doc: TextDocument): FilterWheelSettings {
  const counts = findSection(doc.root, 'Filter wheel encoder counts');
  const byPosition = new Map<number, FilterPosition>();
  const at = (n: number): FilterPosition => {
    const known = byPosition.get(n);
    if (known !== undefined) return known;
    const p: FilterPosition = { position: n, encoder: undefined, index: undefined, description: undefined };
    byPosition.set(n, p);
    return p;
  };
  for (const item of counts?.items ?? []) {
    if (item.kind !== 'entry') continue;
    const pos = /^Filter wheel position (\d+)$/.exec(item.key);
    if (pos !== null) {
      const numbers = parseNumberList(item.value);
      const p = at(Number(pos[1]));
      p.encoder = numbers?.[0];
      p.index = numbers?.[1];
      continue;
    }
    const desc = /^Filter wheel description (\d+)$/.exec(item.key);
    if (desc !== null) at(Number(desc[1])).description = item.value;
  }
  const assignments = findSection(doc.root, 'Filter wheel position assignments');
  const laserSlots = new Map<number, number>();
  for (const item of assignments?.items ?? []) {
    const m = item.kind === 'entry' ? /^Laser (\d+)$/.exec(item.key) : null;
    const slot = m !== null && item.kind === 'entry' ? parseNumberValue(item.value) : undefined;
    if (m !== null && slot !== undefined) laserSlots.set(Number(m[1]), slot);
  }
  return {
    positions: [...byPosition.values()].sort((a, b) => a.position - b.position),
    laserSlots,
    ledSlot: numberAt(assignments, 'LED'),
  };
}

/** The axes of {@link StageSettings} in axis-number order (1 x, 2 y, 3 z, 4 r). */
export function stageAxisList(settings: StageSettings): AxisSettings[] {
  return STAGE_AXES.map((a) => settings[a]);
}

/**
 * The range a move may use on one axis: the soft limits, each falling back to the hard one
 * when the soft key is absent; undefined ends when neither is there.
 */
export function moveRange(axis: AxisSettings): { min: number | undefined; max: number | undefined } {
  return { min: axis.softMin ?? axis.hardMin, max: axis.softMax ?? axis.hardMax };
}
