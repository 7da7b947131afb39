import { ArgumentError } from './errors.js';
import { formatLaserLevel } from './laser-level.js';
import {
  findSection,
  formatTextBytes,
  formatTextFormat,
  lineOf,
  parseTextFormat,
  TextFormatError,
  type TextDocument,
  type TextEntry,
  type TextSection,
} from './text-document.js';
import { parseNumberValue } from './text-values.js';

/**
 * Reading and writing workflow texts (spec/text-format.md "Workflow files"). The parsed
 * {@link Workflow} keeps the whole document, so {@link formatWorkflow} gives the file back byte
 * for byte and an edit changes only its line. Building a new text is in workflow-build.ts.
 */

/** A stage position in workflow terms: X, Y, Z in mm, angle in degrees. */
export interface StagePoint {
  x: number;
  y: number;
  z: number;
  r: number;
}

/**
 * One `Illumination Source` laser line. Three key forms exist: `Laser 2 2: 488 nm MLE`
 * (slot, repeated slot, label), `Laser 1 640 nm` (slot, label), bare `Laser 5`.
 */
export interface WorkflowLaser {
  /** Laser slot 1..7. */
  index: number;
  /** The label (`488 nm MLE`, `640 nm`); '' for a bare slot line. */
  name: string;
  /** Power in percent. */
  power: number;
  /** The trailing 1/0: the laser is used in this workflow. */
  on: boolean;
  /** The key exactly as written (set by the parser; the builder derives it). */
  key?: string;
  /** The wavelength the label names (`488 nm` → 488), when it names one. */
  wavelengthNm?: number;
}

/** A `value flag` pair such as `LED DAC = 42000 0`. */
export interface ValueFlag {
  value: number;
  on: boolean;
}

/** The LED lines of `Illumination Source`; a line that is absent is undefined. */
export interface WorkflowLed {
  /** `LED_RGB_Board = <intensity %> <on>`. */
  rgbBoard: ValueFlag | undefined;
  /** `LED selection = <colour> <on>` (colour 0 red, 1 green, 2 blue, 3 white). */
  selection: ValueFlag | undefined;
  /** `LED DAC = <dac> <on>`. */
  dac: ValueFlag | undefined;
}

/** One camera's capture settings in `Stack Settings`. */
export interface CameraCapture {
  camera: number;
  percentage: number | undefined;
  /** 0 full, 1 from front, 2 from back, 3 none. */
  mode: number | undefined;
}

/** What {@link parseWorkflow} reads out of a workflow text. */
export interface Workflow {
  /** Planes of the stack (≥ 1). */
  numberOfPlanes: number;
  planeSpacingUm: number | undefined;
  frameRate: number | undefined;
  exposureUs: number | undefined;
  start: Partial<StagePoint>;
  end: Partial<StagePoint>;
  /** Every laser line, in file order. */
  lasers: WorkflowLaser[];
  led: WorkflowLed;
  /** `Left path = ON 1`, `Right path = OFF 0`; undefined when the line is absent. */
  paths: { left: boolean | undefined; right: boolean | undefined };
  /** `Stack option` as written (`ZStack`, `Tile`, …), undefined when absent or blank. */
  stackOption: string | undefined;
  /** `Stack option settings 1` and `2` (for `Tile`: the X and Y overlap percent). */
  stackOptionSettings: [number | undefined, number | undefined];
  cameraCapture: CameraCapture[];
  saveDrive: string | undefined;
  saveDirectory: string | undefined;
  /** The whole parsed text, for anything not lifted into fields. */
  document: TextDocument;
}

/** The text is not a workflow: not the section format, no `<Workflow Settings>`, or a bad number. */
export class WorkflowFormatError extends ArgumentError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(`not a workflow text: ${message}`);
    if (options?.cause !== undefined) Object.defineProperty(this, 'cause', { value: options.cause, enumerable: false });
  }
}

/** Where an entry is, for error messages. */
const at = (item: TextEntry): string => {
  const line = lineOf(item);
  return line === undefined ? `"${item.key}"` : `line ${line} ("${item.key}")`;
};

/** The entry of a key compared without its unit suffix and case: `X` finds `X (mm)`. */
function entryByName(s: TextSection | undefined, name: string): TextEntry | undefined {
  if (s === undefined) return undefined;
  const wanted = name.toLowerCase();
  for (const item of s.items) {
    if (item.kind === 'entry' && item.key.replace(/\s*\([^)]*\)\s*$/, '').toLowerCase() === wanted) return item;
  }
  return undefined;
}

/** A number, or undefined when the key is absent or empty; a non-numeric value is an error. */
function optionalNumber(s: TextSection | undefined, name: string): number | undefined {
  const e = entryByName(s, name);
  if (e === undefined || e.value === '') return undefined;
  const n = parseNumberValue(e.value);
  if (n === undefined) throw new WorkflowFormatError(`${at(e)} is not a number: "${e.value}"`);
  return n;
}

function readPoint(s: TextSection | undefined): Partial<StagePoint> {
  const p: Partial<StagePoint> = {};
  const x = optionalNumber(s, 'X');
  const y = optionalNumber(s, 'Y');
  const z = optionalNumber(s, 'Z');
  const r = optionalNumber(s, 'Angle');
  if (x !== undefined) p.x = x;
  if (y !== undefined) p.y = y;
  if (z !== undefined) p.z = z;
  if (r !== undefined) p.r = r;
  return p;
}

const LASER_SLOT_LABEL = /^Laser\s+(\d+)\s+\d+\s*:\s*(.*)$/;
const LASER_LABEL = /^Laser\s+(\d+)\s+(.*\S)$/;
const LASER_BARE = /^Laser\s+(\d+)$/;
const WAVELENGTH = /(\d+)\s*nm\b/;

/** `<number> <0|1>` (extra words after them, as in annotated files, are ignored); blank reads as 0, off. */
function valueFlag(e: TextEntry): ValueFlag {
  const [first, second] = e.value.trim().split(/\s+/);
  if (first === undefined || first === '') return { value: 0, on: false };
  const value = parseNumberValue(first);
  const flag = second === undefined ? 0 : parseNumberValue(second);
  if (value === undefined || (flag !== 0 && flag !== 1)) throw new WorkflowFormatError(`${at(e)} must be "<number> <0 or 1>", got "${e.value}"`);
  return { value, on: flag === 1 };
}

/** The slot and label of a laser key, or undefined when the key is not a laser line. */
export function parseLaserKey(key: string): { index: number; name: string } | undefined {
  const m = LASER_SLOT_LABEL.exec(key) ?? LASER_BARE.exec(key) ?? LASER_LABEL.exec(key);
  if (m === null) return undefined;
  return { index: Number(m[1]), name: (m[2] ?? '').trim() };
}

function readLasers(s: TextSection | undefined): WorkflowLaser[] {
  const out: WorkflowLaser[] = [];
  for (const item of s?.items ?? []) {
    if (item.kind !== 'entry') continue;
    const key = parseLaserKey(item.key);
    if (key === undefined) continue;
    const { value, on } = valueFlag(item);
    const laser: WorkflowLaser = { index: key.index, name: key.name, power: value, on, key: item.key };
    const nm = WAVELENGTH.exec(key.name);
    if (nm !== null) laser.wavelengthNm = Number(nm[1]);
    out.push(laser);
  }
  return out;
}

function readLed(s: TextSection | undefined): WorkflowLed {
  const pair = (key: string): ValueFlag | undefined => {
    const e = s === undefined ? undefined : s.items.find((i): i is TextEntry => i.kind === 'entry' && i.key === key);
    return e === undefined ? undefined : valueFlag(e);
  };
  return { rgbBoard: pair('LED_RGB_Board'), selection: pair('LED selection'), dac: pair('LED DAC') };
}

function readPath(s: TextSection | undefined, name: string): boolean | undefined {
  const e = entryByName(s, name);
  if (e === undefined || e.value === '') return undefined;
  const words = e.value.trim().split(/\s+/);
  const last = words[words.length - 1];
  if (last === '1' || words[0]?.toUpperCase() === 'ON') return true;
  if (last === '0' || words[0]?.toUpperCase() === 'OFF') return false;
  throw new WorkflowFormatError(`${at(e)} must be "ON 1" or "OFF 0", got "${e.value}"`);
}

function readCapture(s: TextSection | undefined): CameraCapture[] {
  const cameras = new Map<number, CameraCapture>();
  for (const item of s?.items ?? []) {
    if (item.kind !== 'entry') continue;
    const m = /^Camera (\d+) capture (percentage|mode)\b/.exec(item.key);
    if (m === null) continue;
    const camera = Number(m[1]);
    const c = cameras.get(camera) ?? { camera, percentage: undefined, mode: undefined };
    cameras.set(camera, c);
    const n = item.value === '' ? undefined : parseNumberValue(item.value);
    if (item.value !== '' && n === undefined) throw new WorkflowFormatError(`${at(item)} is not a number: "${item.value}"`);
    if (m[2] === 'percentage') c.percentage = n;
    else c.mode = n;
  }
  return [...cameras.values()].sort((a, b) => a.camera - b.camera);
}

/**
 * Read a workflow text, as a string or as the bytes sent (a Latin-1 `°` then survives
 * {@link formatWorkflowBytes}). Lenient about what the facts leave open (missing keys, extra
 * sections, key units), strict about what makes it a workflow: it must be the section format,
 * hold a top-level `<Workflow Settings>` with an `Experiment Settings` or `Stack Settings`
 * section, and every number it gives must be a number. The number of planes is `Number of
 * planes`, else the Z range over the plane spacing, else 1.
 * @throws WorkflowFormatError (an ArgumentError) naming why the text is not a workflow.
 */
export function parseWorkflow(text: string | Uint8Array): Workflow {
  let document: TextDocument;
  try {
    document = parseTextFormat(text);
  } catch (error) {
    if (error instanceof TextFormatError) throw new WorkflowFormatError(error.message, { cause: error });
    throw error;
  }
  const ws = findSection(document.root, 'Workflow Settings');
  if (ws === undefined) {
    const why = findSection(document.root, 'Stage limits') !== undefined ? ' (this looks like a settings text)' : '';
    throw new WorkflowFormatError(`no <Workflow Settings> section${why}`);
  }
  const experiment = findSection(ws, 'Experiment Settings');
  const stack = findSection(ws, 'Stack Settings');
  if (experiment === undefined && stack === undefined) throw new WorkflowFormatError('no <Experiment Settings> or <Stack Settings> inside <Workflow Settings>');
  const planeSpacingUm = optionalNumber(experiment, 'Plane spacing');
  const start = readPoint(findSection(ws, 'Start Position'));
  const end = readPoint(findSection(ws, 'End Position'));
  let numberOfPlanes = optionalNumber(stack, 'Number of planes');
  if (numberOfPlanes !== undefined && (!Number.isInteger(numberOfPlanes) || numberOfPlanes < 1)) {
    throw new WorkflowFormatError(`"Number of planes" must be a positive integer, got ${numberOfPlanes}`);
  }
  if (numberOfPlanes === undefined) {
    numberOfPlanes =
      start.z !== undefined && end.z !== undefined && planeSpacingUm !== undefined && planeSpacingUm > 0
        ? Math.max(1, Math.round((Math.abs(end.z - start.z) * 1000) / planeSpacingUm) + 1)
        : 1;
  }
  const source = findSection(ws, 'Illumination Source');
  const path = findSection(ws, 'Illumination Path');
  const option = entryByName(stack, 'Stack option')?.value;
  return {
    numberOfPlanes,
    planeSpacingUm,
    frameRate: optionalNumber(experiment, 'Frame rate'),
    exposureUs: optionalNumber(experiment, 'Exposure time'),
    start,
    end,
    lasers: readLasers(source),
    led: readLed(source),
    paths: { left: readPath(path, 'Left path'), right: readPath(path, 'Right path') },
    stackOption: option === undefined || option === '' ? undefined : option,
    stackOptionSettings: [optionalNumber(stack, 'Stack option settings 1'), optionalNumber(stack, 'Stack option settings 2')],
    cameraCapture: readCapture(stack),
    saveDrive: entryByName(experiment, 'Save image drive')?.value,
    saveDirectory: entryByName(experiment, 'Save image directory')?.value,
    document,
  };
}

/** The workflow's text: the file as read, with any edits made to its document since. */
export function formatWorkflow(workflow: Workflow): string {
  return formatTextFormat(workflow.document.root, { newline: workflow.document.newline });
}

/** {@link formatWorkflow} as bytes in the encoding the file was read with (what WORKFLOW_START sends). */
export function formatWorkflowBytes(workflow: Workflow): Uint8Array {
  return formatTextBytes(workflow.document);
}

/**
 * Change one laser line of a parsed workflow in place (its line only): power as the
 * instrument writes it (two decimals) and the on flag. Also updates `workflow.lasers`.
 * @throws ArgumentError when the workflow has no line for that slot, or power is not 0..100.
 */
export function setWorkflowLaser(workflow: Workflow, index: number, power: number, on: boolean): void {
  if (!Number.isFinite(power) || power < 0 || power > 100) throw new ArgumentError(`laser power must be 0..100 %, got ${power}`);
  const source = findSection(workflow.document.root, 'Workflow Settings', 'Illumination Source');
  const entry = source?.items.find((i): i is TextEntry => i.kind === 'entry' && parseLaserKey(i.key)?.index === index);
  const laser = workflow.lasers.find((l) => l.index === index);
  if (entry === undefined || laser === undefined) throw new ArgumentError(`the workflow has no line for laser ${index}`);
  entry.value = `${formatLaserLevel(power)} ${on ? 1 : 0}`;
  laser.power = power;
  laser.on = on;
}

/** True when {@link parseWorkflow} accepts the text. */
export function isWorkflowText(text: string | Uint8Array): boolean {
  try {
    parseWorkflow(text);
    return true;
  } catch (error) {
    if (error instanceof WorkflowFormatError) return false;
    throw error;
  }
}

export { buildWorkflowText, STACK_OPTIONS, type StackOption, type WorkflowTextOptions } from './workflow-build.js';
export { tileGrid, type Tile, type TileGrid } from './tile-grid.js';
