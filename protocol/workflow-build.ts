import { ArgumentError } from './errors.js';
import { formatLaserLevel } from './laser-level.js';
import { formatTextFormat, type TextEntry, type TextSection } from './text-document.js';
import type { StagePoint, WorkflowLaser } from './workflow-text.js';

/**
 * Building a new workflow text in the instrument's form (spec/text-format.md "Building a
 * workflow"). Every argument is checked first: a bad one is an ArgumentError and no text is made.
 */

/** Every `Stack option` the instrument's own GUI offers. */
export const STACK_OPTIONS = ['None', 'ZStack', 'Tile', 'ZStack Movie', 'ZSweep', 'OPT', 'OPT ZStacks', 'Bidirectional'] as const;
export type StackOption = (typeof STACK_OPTIONS)[number];

/** The exact capture-mode label the instrument matches (a shorter key is ignored by it). */
const CAPTURE_MODE_LABEL = '(0 full, 1 from front, 2 from back, 3 none)';
const LASER_SLOTS = 7;

/** Options of {@link buildWorkflowText}; every one has a sensible default. */
export interface WorkflowTextOptions {
  /** Distance between planes in µm (default 2.5). */
  planeSpacingUm?: number;
  /** Camera frame rate in frames/s (default 40). */
  frameRate?: number;
  /** Exposure in µs (default 10,000; written with thousands separators). */
  exposureUs?: number;
  /** Number of planes; default: from the Z range and the plane spacing, else 10. */
  numberOfPlanes?: number;
  /** Default X 7.5, Y 15, Z 16, angle 0 (inside the instrument's limits). */
  start?: Partial<StagePoint>;
  /** Default: the start position with Z advanced by (planes − 1) × spacing. */
  end?: Partial<StagePoint>;
  /**
   * Lasers by slot 1..7 (default: slot 2, `488 nm MLE`, 5 % on). Every slot is written: a
   * given slot with a name as `Laser 2 2: 488 nm MLE = 5.00 1`, the others bare (`Laser 5 = 0.00 0`).
   */
  lasers?: WorkflowLaser[];
  /**
   * LED lines (default off). `percent` 0..100 goes to `LED_RGB_Board`, `colour` (0 red,
   * 1 green, 2 blue, 3 white) to `LED selection`, `dac` (default percent × 655.35) to `LED DAC`.
   * `selection` (a raw `LED selection` value) is accepted for older callers.
   */
  led?: { on: boolean; percent?: number; colour?: number; dac?: number; selection?: string };
  /** Illumination paths (default left on, right off). */
  leftPath?: boolean;
  rightPath?: boolean;
  /** Stack option (default `ZStack`); anything else than {@link STACK_OPTIONS} is refused. */
  stackOption?: string;
  /** `Stack option settings 1` and `2` (default 0 and 0). For `Tile` they are the overlap. */
  stackOptionSettings?: [number, number];
  /** For `Tile`: X and Y overlap percent, 0..50 (default [10, 10]). */
  overlapPercent?: [number, number];
  /** Per camera: capture percentage 0..100 and mode 0..3 (default two cameras, 100 %, mode 0). */
  capture?: { percentage?: number; mode?: number }[];
  /** Camera AOI (default 2048 × 2048). */
  aoiWidth?: number;
  aoiHeight?: number;
  /** `dd:hh:mm:ss` (default 00:00:00:00). */
  duration?: string;
  interval?: string;
  saveDrive?: string;
  /** One directory level: the instrument cannot create nested directories. */
  saveDirectory?: string;
  sample?: string;
  comments?: string;
  saveImageData?: string;
  saveMaxProjection?: boolean;
  displayMaxProjection?: boolean;
  /** Line ending (default '\n'). */
  newline?: '\n' | '\r\n';
}

const entry = (key: string, value: string | number): TextEntry => ({ kind: 'entry', key, value: String(value) });
const section = (name: string, items: (TextEntry | TextSection)[]): TextSection => ({ kind: 'section', name, items });

/** Group thousands with commas as the instrument writes them (`9,002`). */
function thousands(n: number): string {
  const [int, frac] = String(n).split('.');
  const grouped = (int as string).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return frac === undefined ? grouped : `${grouped}.${frac}`;
}

function check(ok: boolean, message: string): void {
  if (!ok) throw new ArgumentError(message);
}

const isInt = (n: unknown, min: number, max: number): boolean => typeof n === 'number' && Number.isInteger(n) && n >= min && n <= max;
const isIn = (n: unknown, min: number, max: number): boolean => typeof n === 'number' && Number.isFinite(n) && n >= min && n <= max;

function checkDirectory(dir: string): void {
  check(!/[\\/]/.test(dir.replace(/^\/+|\/+$/g, '')), `save directory must be one level (the instrument cannot create nested directories), got "${dir}"`);
  check(dir !== '.' && dir !== '..', `save directory "${dir}" is not a directory name`);
}

function laserLines(lasers: WorkflowLaser[]): TextEntry[] {
  const bySlot = new Map<number, WorkflowLaser>();
  for (const l of lasers) {
    check(isInt(l.index, 1, LASER_SLOTS), `laser slot must be 1..${LASER_SLOTS}, got ${String(l.index)}`);
    check(!bySlot.has(l.index), `laser slot ${l.index} is given twice`);
    check(isIn(l.power, 0, 100), `laser ${l.index} power must be 0..100 %, got ${String(l.power)}`);
    bySlot.set(l.index, l);
  }
  const lines: TextEntry[] = [];
  for (let slot = 1; slot <= LASER_SLOTS; slot++) {
    const l = bySlot.get(slot);
    const value = `${formatLaserLevel(l?.power ?? 0)} ${l?.on === true ? 1 : 0}`;
    lines.push(entry(l === undefined || l.name.trim() === '' ? `Laser ${slot}` : `Laser ${slot} ${slot}: ${l.name.trim()}`, value));
  }
  return lines;
}

function ledLines(led: NonNullable<WorkflowTextOptions['led']>): TextEntry[] {
  const percent = led.percent ?? 0;
  check(isIn(percent, 0, 100), `LED percent must be 0..100, got ${String(percent)}`);
  const colour = led.colour ?? 0;
  check(isInt(colour, 0, 3), `LED colour must be 0 red, 1 green, 2 blue or 3 white, got ${String(colour)}`);
  const dac = led.dac ?? Math.round(percent * 655.35);
  check(isInt(dac, 0, 65535), `LED DAC must be an integer 0..65535, got ${String(dac)}`);
  const flag = led.on ? 1 : 0;
  return [
    entry('LED_RGB_Board', `${percent.toFixed(2)} ${flag}`),
    entry('LED selection', led.selection ?? `${colour} ${flag}`),
    entry('LED DAC', `${dac} ${flag}`),
  ];
}

function stackSettings(options: WorkflowTextOptions): [string, number, number] {
  const option = options.stackOption ?? 'ZStack';
  check((STACK_OPTIONS as readonly string[]).includes(option), `unknown stack option "${option}"; the instrument knows ${STACK_OPTIONS.join(', ')}`);
  if (option !== 'Tile') {
    check(options.overlapPercent === undefined, `overlapPercent applies to the Tile stack option only, not "${option}"`);
    const [a, b] = options.stackOptionSettings ?? [0, 0];
    check(isIn(a, -1e9, 1e9) && isIn(b, -1e9, 1e9), 'stack option settings must be finite numbers');
    return [option, a, b];
  }
  const [x, y] = options.overlapPercent ?? options.stackOptionSettings ?? [10, 10];
  check(isIn(x, 0, 50) && isIn(y, 0, 50), `tile overlap must be 0..50 % on each axis, got [${String(x)}, ${String(y)}]`);
  return [option, x, y];
}

/**
 * Build a workflow text in the instrument's format: one `<Workflow Settings>` section with
 * Experiment, Camera and Stack settings, start and end positions, illumination source (seven
 * laser slots and the LED lines), path and options, two-space indentation, every line ended
 * by `newline`. The result parses with `parseWorkflow`.
 * @throws ArgumentError on an unknown stack option, an overlap outside 0..50, a laser slot
 *   outside 1..7, a nested save directory, or any other value out of range.
 */
export function buildWorkflowText(options: WorkflowTextOptions = {}): string {
  const spacing = options.planeSpacingUm ?? 2.5;
  check(isIn(spacing, 1e-6, 1e6), `plane spacing must be a positive number of µm, got ${String(spacing)}`);
  const start: StagePoint = { x: 7.5, y: 15, z: 16, r: 0, ...options.start };
  let planes = options.numberOfPlanes;
  if (planes === undefined) {
    planes = options.end?.z !== undefined ? Math.max(1, Math.round((Math.abs(options.end.z - start.z) * 1000) / spacing) + 1) : 10;
  }
  check(isInt(planes, 1, 1e7), `number of planes must be a positive integer, got ${String(planes)}`);
  const end: StagePoint = { ...start, z: start.z + ((planes - 1) * spacing) / 1000, ...options.end };
  for (const [name, p] of [
    ['start', start],
    ['end', end],
  ] as const) {
    check(
      [p.x, p.y, p.z, p.r].every((n) => isIn(n, -1e6, 1e6)),
      `${name} position must be finite numbers`,
    );
  }
  const frameRate = options.frameRate ?? 40;
  check(isIn(frameRate, 1e-6, 1e6), `frame rate must be positive, got ${String(frameRate)}`);
  const [stackOption, setting1, setting2] = stackSettings(options);
  const capture = options.capture ?? [{}, {}];
  check(capture.length >= 1 && capture.length <= 4, `capture settings are for 1..4 cameras, got ${capture.length}`);
  const saveDirectory = options.saveDirectory ?? 'Experiments';
  checkDirectory(saveDirectory);
  const lasers = laserLines(options.lasers ?? [{ index: 2, name: '488 nm MLE', power: 5, on: true }]);
  const led = ledLines(options.led ?? { on: false });
  const fixed = (n: number, digits: number): string => n.toFixed(digits);
  const position = (name: string, p: StagePoint) =>
    section(name, [entry('X (mm)', fixed(p.x, 3)), entry('Y (mm)', fixed(p.y, 3)), entry('Z (mm)', fixed(p.z, 3)), entry('Angle (degrees)', fixed(p.r, 2))]);
  const cameraLines = capture.flatMap((c, i) => {
    const percentage = c.percentage ?? 100;
    const mode = c.mode ?? 0;
    check(isIn(percentage, 0, 100), `camera ${i + 1} capture percentage must be 0..100, got ${String(percentage)}`);
    check(isInt(mode, 0, 3), `camera ${i + 1} capture mode must be 0 full, 1 from front, 2 from back or 3 none, got ${String(mode)}`);
    return [entry(`Camera ${i + 1} capture percentage`, percentage), entry(`Camera ${i + 1} capture mode ${CAPTURE_MODE_LABEL}`, mode)];
  });
  const root = section('Workflow Settings', [
    section('Experiment Settings', [
      entry('Plane spacing (um)', spacing),
      entry('Frame rate (f/s)', fixed(frameRate, 6)),
      entry('Exposure time (us)', thousands(options.exposureUs ?? 10_000)),
      entry('Duration (dd:hh:mm:ss)', options.duration ?? '00:00:00:00'),
      entry('Interval (dd:hh:mm:ss)', options.interval ?? '00:00:00:00'),
      entry('Sample', options.sample ?? ''),
      entry('Save image drive', options.saveDrive ?? '/media/flamingo/Data'),
      entry('Save image directory', saveDirectory),
      entry('Comments', options.comments ?? ''),
      entry('Save max projection', String(options.saveMaxProjection ?? false)),
      entry('Display max projection', String(options.displayMaxProjection ?? true)),
      entry('Save image data', options.saveImageData ?? 'Tiff'),
    ]),
    section('Camera Settings', [entry('AOI width', options.aoiWidth ?? 2048), entry('AOI height', options.aoiHeight ?? 2048)]),
    section('Stack Settings', [
      entry('Stack index', ''),
      entry('Change in Z axis (mm)', fixed(Math.abs(end.z - start.z), 4)),
      entry('Number of planes', thousands(planes)),
      entry('Number of planes saved', ''),
      entry('Z stage velocity (mm/s)', fixed((spacing * frameRate) / 1000, 4)),
      entry('Rotational stage velocity (°/s)', 0),
      entry('Auto update stack calculations', 'true'),
      entry('Date time stamp', ''),
      entry('Stack file name', ''),
      ...cameraLines,
      entry('Stack option', stackOption),
      entry('Stack option settings 1', setting1),
      entry('Stack option settings 2', setting2),
    ]),
    position('Start Position', start),
    position('End Position', end),
    section('Illumination Source', [...lasers, ...led]),
    section('Illumination Path', [
      entry('Left path', (options.leftPath ?? true) ? 'ON 1' : 'OFF 0'),
      entry('Right path', (options.rightPath ?? false) ? 'ON 1' : 'OFF 0'),
    ]),
    section('Illumination Options', [entry('Run stack with multiple lasers on', 'false')]),
  ]);
  return formatTextFormat(root, { newline: options.newline ?? '\n' });
}
