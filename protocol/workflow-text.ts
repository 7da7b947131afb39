import { FlamingoError } from './errors.js';
import {
  findSection,
  formatTextFormat,
  parseNumberList,
  parseNumberValue,
  parseTextFormat,
  TextFormatError,
  type TextDocument,
  type TextEntry,
  type TextSection,
} from './text-format.js';

/** A stage position in workflow terms: X, Y, Z in mm, angle in degrees. */
export interface StagePoint {
  x: number;
  y: number;
  z: number;
  r: number;
}

/** One `Illumination Source` laser line: `Laser 2 2: 488 nm MLE = 10.67 0`. */
export interface WorkflowLaser {
  /** Laser 1..4. */
  index: number;
  /** Name after the colon, e.g. `488 nm MLE`. */
  name: string;
  /** Power in percent. */
  power: number;
  /** The trailing 1/0: the laser is used in this workflow. */
  on: boolean;
}

/** Options of {@link buildWorkflowText}; every one has a sensible default. */
export interface WorkflowTextOptions {
  /** Distance between planes in µm (default 2.5). */
  planeSpacingUm?: number;
  /** Camera frame rate in frames/s (default 40). */
  frameRate?: number;
  /** Exposure in µs (default 10,000). */
  exposureUs?: number;
  /** Number of planes; default: from the Z range and the plane spacing, at least 1. */
  numberOfPlanes?: number;
  /** Default X 7.5, Y 15, Z 16, angle 0 (inside the instrument's limits). */
  start?: Partial<StagePoint>;
  /** Default: the start position with Z advanced by (planes − 1) × spacing. */
  end?: Partial<StagePoint>;
  /** Default: laser 2 (488 nm) at 5 % on. */
  lasers?: WorkflowLaser[];
  /** LED on/off (default off) and DAC level (default 0). */
  led?: { on: boolean; dac?: number; selection?: string };
  /** Illumination paths (default left on, right off). */
  leftPath?: boolean;
  rightPath?: boolean;
  /** Stack option (default `ZStack`) and its two numeric settings (default 1 and 1). */
  stackOption?: string;
  stackOptionSettings?: [number, number];
  /** Camera AOI (default 2048 × 2048). */
  aoiWidth?: number;
  aoiHeight?: number;
  /** `dd:hh:mm:ss` (default 00:00:00:00). */
  duration?: string;
  interval?: string;
  saveDrive?: string;
  saveDirectory?: string;
  sample?: string;
  comments?: string;
  saveImageData?: string;
  saveMaxProjection?: boolean;
  displayMaxProjection?: boolean;
  /** Line ending (default '\n'). */
  newline?: '\n' | '\r\n';
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
  lasers: WorkflowLaser[];
  /** The whole parsed text, for anything not lifted into fields. */
  document: TextDocument;
}

/** The text is not a workflow: not the section format, no `<Workflow Settings>`, or a bad number. */
export class WorkflowFormatError extends FlamingoError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ARGUMENT', `not a workflow text: ${message}`, options);
  }
}

const entry = (key: string, value: string | number): TextEntry => ({ kind: 'entry', key, value: String(value) });
const section = (name: string, items: (TextEntry | TextSection)[]): TextSection => ({ kind: 'section', name, items });

/** Group thousands with commas as the instrument writes them (`9,002`). */
function thousands(n: number): string {
  const [int, frac] = String(n).split('.');
  const grouped = (int as string).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return frac === undefined ? grouped : `${grouped}.${frac}`;
}

const fixed = (n: number, digits: number): string => n.toFixed(digits);

/**
 * Build a workflow text in the instrument's format: one `<Workflow Settings>` section with
 * Experiment, Camera and Stack settings, start and end positions, illumination source,
 * path and options, two-space indentation. The result parses with {@link parseWorkflow}.
 */
export function buildWorkflowText(options: WorkflowTextOptions = {}): string {
  const spacing = options.planeSpacingUm ?? 2.5;
  const start: StagePoint = { x: 7.5, y: 15, z: 16, r: 0, ...options.start };
  let planes = options.numberOfPlanes;
  if (planes === undefined) {
    planes = options.end?.z !== undefined ? Math.max(1, Math.round((Math.abs(options.end.z - start.z) * 1000) / spacing) + 1) : 10;
  }
  const end: StagePoint = { ...start, z: start.z + ((planes - 1) * spacing) / 1000, ...options.end };
  const frameRate = options.frameRate ?? 40;
  const lasers = options.lasers ?? [{ index: 2, name: '488 nm MLE', power: 5, on: true }];
  const led = options.led ?? { on: false };
  const position = (name: string, p: StagePoint) =>
    section(name, [entry('X (mm)', fixed(p.x, 3)), entry('Y (mm)', fixed(p.y, 3)), entry('Z (mm)', fixed(p.z, 3)), entry('Angle (degrees)', fixed(p.r, 2))]);
  const root = section('Workflow Settings', [
    section('Experiment Settings', [
      entry('Plane spacing (um)', spacing),
      entry('Frame rate (f/s)', fixed(frameRate, 6)),
      entry('Exposure time (us)', thousands(options.exposureUs ?? 10_000)),
      entry('Duration (dd:hh:mm:ss)', options.duration ?? '00:00:00:00'),
      entry('Interval (dd:hh:mm:ss)', options.interval ?? '00:00:00:00'),
      entry('Sample', options.sample ?? ''),
      entry('Save image drive', options.saveDrive ?? '/media/flamingo/Data'),
      entry('Save image directory', options.saveDirectory ?? 'Experiments'),
      entry('Comments', options.comments ?? ''),
      entry('Save max projection', String(options.saveMaxProjection ?? false)),
      entry('Display max projection', String(options.displayMaxProjection ?? true)),
      entry('Save image data', options.saveImageData ?? 'Tiff'),
    ]),
    section('Camera Settings', [entry('AOI width', options.aoiWidth ?? 2048), entry('AOI height', options.aoiHeight ?? 2048)]),
    section('Stack Settings', [
      entry('Change in Z axis (mm)', fixed(Math.abs(end.z - start.z), 4)),
      entry('Number of planes', thousands(planes)),
      entry('Z stage velocity (mm/s)', fixed((spacing * frameRate) / 1000, 4)),
      entry('Stack option', options.stackOption ?? 'ZStack'),
      entry('Stack option settings 1', options.stackOptionSettings?.[0] ?? 1),
      entry('Stack option settings 2', options.stackOptionSettings?.[1] ?? 1),
    ]),
    position('Start Position', start),
    position('End Position', end),
    section('Illumination Source', [
      ...lasers.map((l) => entry(`Laser ${l.index} ${l.index}: ${l.name}`, `${fixed(l.power, 2)} ${l.on ? 1 : 0}`)),
      entry('LED_RGB_Board', `${led.on ? 1 : 0}`),
      entry('LED selection', led.selection ?? '0 0'),
      entry('LED DAC', `${led.dac ?? 0} ${led.on ? 1 : 0}`),
    ]),
    section('Illumination Path', [entry('Left path', options.leftPath ?? true ? 'ON 1' : 'OFF 0'), entry('Right path', options.rightPath ?? false ? 'ON 1' : 'OFF 0')]),
    section('Illumination Options', [entry('Run stack with multiple lasers on', 'false')]),
  ]);
  return formatTextFormat(root, { newline: options.newline ?? '\n' });
}

/** The value of a key compared without its unit suffix and case: `X` finds `X (mm)`. */
function valueByName(s: TextSection | undefined, name: string): string | undefined {
  if (s === undefined) return undefined;
  const wanted = name.toLowerCase();
  for (const item of s.items) {
    if (item.kind === 'entry' && item.key.replace(/\s*\([^)]*\)\s*$/, '').toLowerCase() === wanted) return item.value;
  }
  return undefined;
}

/** A number, or undefined when the key is absent or empty; a non-numeric value is an error. */
function optionalNumber(s: TextSection | undefined, name: string): number | undefined {
  const v = valueByName(s, name);
  if (v === undefined || v === '') return undefined;
  const n = parseNumberValue(v);
  if (n === undefined) throw new WorkflowFormatError(`"${name}" is not a number: "${v}"`);
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

const LASER_KEY = /^Laser\s+(\d+)\s+\d+\s*:\s*(.*)$/;

function readLasers(s: TextSection | undefined): WorkflowLaser[] {
  const out: WorkflowLaser[] = [];
  if (s === undefined) return out;
  for (const item of s.items) {
    if (item.kind !== 'entry') continue;
    const m = LASER_KEY.exec(item.key);
    if (m === null) continue;
    const numbers = parseNumberList(item.value);
    if (numbers === undefined || numbers.length < 1) throw new WorkflowFormatError(`laser line "${item.key}" has no power`);
    out.push({ index: Number(m[1]), name: (m[2] as string).trim(), power: numbers[0] as number, on: (numbers[1] ?? 0) === 1 });
  }
  return out;
}

/**
 * Read a workflow text. Lenient about what the facts leave open (missing keys, extra
 * sections, key units), strict about what makes it a workflow: it must be the section
 * format, hold a top-level `<Workflow Settings>` with an `Experiment Settings` or
 * `Stack Settings` section, and every number it gives must be a number. The number of
 * planes is `Number of planes`, else the Z range over the plane spacing, else 1.
 * @throws WorkflowFormatError when the text is not a workflow.
 */
export function parseWorkflow(text: string): Workflow {
  let document: TextDocument;
  try {
    document = parseTextFormat(text);
  } catch (error) {
    if (error instanceof TextFormatError) throw new WorkflowFormatError(error.message, { cause: error });
    throw error;
  }
  const ws = findSection(document.root, 'Workflow Settings');
  if (ws === undefined) throw new WorkflowFormatError('no <Workflow Settings> section');
  const experiment = findSection(ws, 'Experiment Settings');
  const stack = findSection(ws, 'Stack Settings');
  if (experiment === undefined && stack === undefined) throw new WorkflowFormatError('no <Experiment Settings> or <Stack Settings>');
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
  const frameRate = optionalNumber(experiment, 'Frame rate');
  const exposureUs = optionalNumber(experiment, 'Exposure time');
  return {
    numberOfPlanes,
    planeSpacingUm,
    frameRate,
    exposureUs,
    start,
    end,
    lasers: readLasers(findSection(ws, 'Illumination Source')),
    document,
  };
}

/** True when {@link parseWorkflow} accepts the text. */
export function isWorkflowText(text: string): boolean {
  try {
    parseWorkflow(text);
    return true;
  } catch (error) {
    if (error instanceof WorkflowFormatError) return false;
    throw error;
  }
}
