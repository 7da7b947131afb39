import { FlamingoError } from './errors.js';

/**
 * The plain-text format of the instrument's settings file and of workflow files
 * (spec/protocol.md, "Text format"): `<Name>` … `</Name>` sections that nest, and
 * `key = value` lines inside them. Pure text handling, no I/O.
 */

/** One `key = value` line. */
export interface TextEntry {
  readonly kind: 'entry';
  /** The key as written, units included (`Plane spacing (um)`), trimmed. */
  key: string;
  /** The value as written, trimmed; '' for `Sample = `. */
  value: string;
  /** A line with no `=` at all, kept verbatim in `key` so nothing is lost on a round trip. */
  bare?: boolean;
}

/** A `<Name>` … `</Name>` block; `items` keeps entries and subsections in file order. */
export interface TextSection {
  readonly kind: 'section';
  name: string;
  items: (TextEntry | TextSection)[];
}

/** A parsed text: the unnamed root section plus whatever the parser had to tolerate. */
export interface TextDocument {
  /** Root (name ''); real files hold one or more top-level sections in it. */
  root: TextSection;
  /** Line ending of the source (the formatter reuses it). */
  newline: '\n' | '\r\n';
  /** Lines the parser tolerated rather than rejected, e.g. a stray closing tag. */
  warnings: string[];
}

/** The text could not be read as the section format at all. */
export class TextFormatError extends FlamingoError {
  /** 1-based line where the problem was found. */
  readonly line: number;
  constructor(message: string, line: number) {
    super('ARGUMENT', `line ${line}: ${message}`);
    this.line = line;
  }
}

const OPEN = /^<([^/<>][^<>]*)>$/;
const CLOSE = /^<\/([^<>]*)>$/;

/**
 * Parse the section format. Accepts LF or CRLF, any indentation, empty values, units and
 * `°` in keys. A closing tag that matches no open section is tolerated with a warning
 * (files written by the instrument's own GUI have been seen with a doubled or `<//Name>`
 * closing tag); a section still open at the end of the text is an error, because the
 * file was then cut short.
 * @throws TextFormatError when a section is never closed.
 */
export function parseTextFormat(text: string): TextDocument {
  const newline: '\n' | '\r\n' = text.includes('\r\n') ? '\r\n' : '\n';
  const root: TextSection = { kind: 'section', name: '', items: [] };
  const stack: TextSection[] = [root];
  const opened: number[] = [0];
  const warnings: string[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    // A leading byte-order mark would otherwise become part of the first section name.
    const raw = i === 0 ? (lines[i] as string).replace(/^\uFEFF/, '') : (lines[i] as string);
    const line = raw.trim();
    if (line === '') continue;
    const current = stack[stack.length - 1] as TextSection;
    const close = CLOSE.exec(line);
    if (close !== null) {
      const name = (close[1] as string).trim();
      if (stack.length > 1 && name === current.name) {
        stack.pop();
        opened.pop();
      } else {
        warnings.push(`line ${i + 1}: closing tag </${name}> matches no open section; ignored`);
      }
      continue;
    }
    const open = OPEN.exec(line);
    if (open !== null) {
      const section: TextSection = { kind: 'section', name: (open[1] as string).trim(), items: [] };
      current.items.push(section);
      stack.push(section);
      opened.push(i + 1);
      continue;
    }
    const eq = line.indexOf('=');
    if (eq < 0) {
      current.items.push({ kind: 'entry', key: line, value: '', bare: true });
      warnings.push(`line ${i + 1}: no '=' in "${line}"; kept as a bare line`);
      continue;
    }
    current.items.push({ kind: 'entry', key: line.slice(0, eq).trim(), value: line.slice(eq + 1).trim() });
  }
  if (stack.length > 1) {
    const open = stack[stack.length - 1] as TextSection;
    throw new TextFormatError(`section <${open.name}> is never closed`, opened[opened.length - 1] as number);
  }
  return { root, newline, warnings };
}

/** Options of {@link formatTextFormat}. */
export interface FormatTextOptions {
  /** Line ending (default '\n'). */
  newline?: '\n' | '\r\n';
  /** Spaces per nesting level (default 2, as the instrument writes). */
  indent?: number;
}

/**
 * Write a section tree back as text: each level indented, `key = value` (`key = ` for an
 * empty value), a final line ending. `parseTextFormat(formatTextFormat(s))` gives `s` back.
 */
export function formatTextFormat(section: TextSection, options: FormatTextOptions = {}): string {
  const newline = options.newline ?? '\n';
  const unit = ' '.repeat(options.indent ?? 2);
  const out: string[] = [];
  const write = (s: TextSection, depth: number): void => {
    const pad = unit.repeat(depth);
    for (const item of s.items) {
      if (item.kind === 'entry') {
        out.push(item.bare === true ? `${pad}${item.key}` : `${pad}${item.key} = ${item.value}`);
      } else {
        out.push(`${pad}<${item.name}>`);
        write(item, depth + 1);
        out.push(`${pad}</${item.name}>`);
      }
    }
  };
  // The root is a container, not a section of the file: its items start at depth 0.
  if (section.name === '') write(section, 0);
  else write({ kind: 'section', name: '', items: [section] }, 0);
  return out.length === 0 ? '' : out.join(newline) + newline;
}

/** The first subsection with this name (exact match), following a path of names. */
export function findSection(section: TextSection, ...path: string[]): TextSection | undefined {
  let current: TextSection | undefined = section;
  for (const name of path) {
    current = current.items.find((i): i is TextSection => i.kind === 'section' && i.name === name);
    if (current === undefined) return undefined;
  }
  return current;
}

/** The value of the first entry with this key (exact match), or undefined. */
export function entryValue(section: TextSection, key: string): string | undefined {
  for (const item of section.items) if (item.kind === 'entry' && item.key === key) return item.value;
  return undefined;
}

/** Set (or append) an entry's value, keeping its place in the section. */
export function setEntry(section: TextSection, key: string, value: string): void {
  for (const item of section.items) {
    if (item.kind === 'entry' && item.key === key) {
      item.value = value;
      // A bare line is written as its key alone: it must become `key = value` or the value is lost.
      delete item.bare;
      return;
    }
  }
  section.items.push({ kind: 'entry', key, value });
}

const NUMBER = /^[+-]?(\d{1,3}(,\d{3})+|\d+)?(\.\d+)?([eE][+-]?\d+)?$/;

/**
 * A numeric value: `9,002` → 9002 (thousands separators), `-720.0`, `1e-3`.
 * Returns undefined for '' or anything that is not exactly one number.
 */
export function parseNumberValue(value: string): number | undefined {
  const v = value.trim();
  if (v === '' || v === '+' || v === '-' || v === '.' || !NUMBER.test(v)) return undefined;
  const n = Number(v.replaceAll(',', ''));
  return Number.isFinite(n) ? n : undefined;
}

/** Several numbers separated by spaces (`10.67 0` → [10.67, 0]); undefined if any is not a number. */
export function parseNumberList(value: string): number[] | undefined {
  const parts = value.trim().split(/\s+/);
  const out: number[] = [];
  for (const p of parts) {
    const n = parseNumberValue(p);
    if (n === undefined) return undefined;
    out.push(n);
  }
  return out;
}

/** `true` / `false` (any case) → boolean; anything else → undefined. */
export function parseBooleanValue(value: string): boolean | undefined {
  const v = value.trim().toLowerCase();
  if (v === 'true') return true;
  if (v === 'false') return false;
  return undefined;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const latin1 = new TextDecoder('latin1');

/**
 * Decode a text payload. UTF-8 when it is valid UTF-8; otherwise Latin-1, because a `°`
 * written by a Windows-side tool arrives as the single byte 0xB0, which is not UTF-8.
 */
export function decodeTextPayload(bytes: Uint8Array): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return latin1.decode(bytes);
  }
}

/**
 * A realistic settings text, as COMMON_SCOPE_SETTINGS returns it (about 3 KB). The stage
 * limits are those of one real instrument (spec/protocol.md, "Text format"); the other
 * values are plausible, invented for the simulator.
 */
export const DEFAULT_SETTINGS_TEXT: string = [
  '<Type>',
  '  Microscope name = Flamingo simulator',
  '  Microscope type = Light sheet, dual side illumination',
  '  Serial number = SIM-0001',
  '  Firmware version = 2.4.1-sim',
  '  Objective magnification = 16.4',
  '  Tube lens design focal length (mm) = 200',
  '  Tube lens focal length (mm) = 200',
  '  Camera pixel size (um) = 6.5',
  '  Number of cameras = 1',
  '</Type>',
  '<Filter wheel encoder counts>',
  '  Filter wheel position 1 = 3,840 0',
  '  Filter wheel position 2 = 3,328 0',
  '  Filter wheel position 3 = 2,816 0',
  '  Filter wheel position 4 = 2,304 0',
  '  Filter wheel position 5 = 1,792 0',
  '  Filter wheel position 6 = 1,280 0',
  '  Filter wheel description 1 = 440/40 BP',
  '  Filter wheel description 2 = 510/42 BP',
  '  Filter wheel description 3 = 561 LP',
  '  Filter wheel description 4 = 600/52 BP',
  '  Filter wheel description 5 = 690/50 BP',
  '  Filter wheel description 6 = open',
  '</Filter wheel encoder counts>',
  '<Filter wheel position assignments>',
  '  Laser 1 = 1',
  '  Laser 2 = 2',
  '  Laser 3 = 4',
  '  Laser 4 = 5',
  '  LED = 6',
  '</Filter wheel position assignments>',
  '<Illumination settings>',
  '  Laser 1 name = 405 nm LBX',
  '  Laser 2 name = 488 nm MLE',
  '  Laser 3 name = 561 nm OBIS',
  '  Laser 4 name = 640 nm MLE',
  '  Laser 1 max power (mW) = 50',
  '  Laser 2 max power (mW) = 100',
  '  Laser 3 max power (mW) = 100',
  '  Laser 4 max power (mW) = 140',
  '  Laser default power (%) = 5.00',
  '  Left path enabled = true',
  '  Right path enabled = true',
  '  Light sheet height (um) = 2,200',
  '  Light sheet waist (um) = 3.2',
  '  Galvo amplitude (V) = 1.85',
  '</Illumination settings>',
  '<Stage limits>',
  '  Soft limit min X (mm) = 1.000',
  '  Soft limit max X (mm) = 15.000',
  '  Soft limit min Y (mm) = 5.000',
  '  Soft limit max Y (mm) = 25.000',
  '  Soft limit min Z (mm) = 8.000',
  '  Soft limit max Z (mm) = 25.000',
  '  Soft limit min R (°) = -720.0',
  '  Soft limit max R (°) = 720.0',
  '  Home X (mm) = 1.000',
  '  Home Y (mm) = 5.000',
  '  Home Z (mm) = 8.000',
  '  Home R (°) = 0.0',
  '  Unload position X (mm) = 7.500',
  '  Unload position Y (mm) = 5.000',
  '  Unload position Z (mm) = 8.000',
  '  Unload position R (°) = 0.0',
  '  Default velocity X (mm/s) = 1.0',
  '  Default velocity Y (mm/s) = 1.0',
  '  Default velocity Z (mm/s) = 1.0',
  '  Default velocity R (degrees/s) = 50.0',
  '  Max velocity X (mm/s) = 10.0',
  '  Max velocity Y (mm/s) = 10.0',
  '  Max velocity Z (mm/s) = 10.0',
  '  Max velocity R (degrees/s) = 360.0',
  '</Stage limits>',
  '<Camera overlap settings>',
  '  Image width (pixels) = 2,048',
  '  Image height (pixels) = 2,048',
  '  Pixel field of view (mm) = 0.000406',
  '  Tile overlap (%) = 10',
  '  Camera rotation (degrees) = 0.0',
  '  Flip horizontal = false',
  '  Flip vertical = true',
  '  Default exposure time (us) = 10,000',
  '  Min exposure time (us) = 100',
  '  Max exposure time (us) = 10,000,000',
  '</Camera overlap settings>',
  '<LED settings>',
  '  LED board = LED_RGB_Board',
  '  LED count = 4',
  '  LED 0 name = Red',
  '  LED 1 name = Green',
  '  LED 2 name = Blue',
  '  LED 3 name = White',
  '  LED DAC max = 65,535',
  '  LED default DAC = 1,200',
  '</LED settings>',
  '<Storage>',
  '  Default drive = /media/flamingo/Data',
  '  Default directory = Experiments',
  '  Sample = ',
  '</Storage>',
  '',
].join('\r\n');

/** Travel limits, home, unload position and velocities of one stage axis. */
export interface AxisSettings {
  min: number;
  max: number;
  home: number;
  unload: number;
  defaultVelocity: number;
  maxVelocity: number;
}

/** The stage axes in the settings text, in axis order (1 X, 2 Y, 3 Z, 4 R). */
export const STAGE_AXIS_LETTERS = ['X', 'Y', 'Z', 'R'] as const;

/**
 * Read the `Stage limits` section of a settings text. Keys are matched by their words, not
 * their exact units, so `R (°)`, `R (deg)` and `R (degrees)` all count as the R axis.
 * @throws TextFormatError when the section or one of its values is missing.
 */
export function readStageSettings(doc: TextDocument): AxisSettings[] {
  const section = findSection(doc.root, 'Stage limits');
  if (section === undefined) throw new TextFormatError('no <Stage limits> section', 1);
  const lookup = (prefix: string, axis: string): number => {
    for (const item of section.items) {
      if (item.kind !== 'entry') continue;
      const bare = item.key.replace(/\s*\([^)]*\)\s*$/, '');
      if (bare === `${prefix} ${axis}`) {
        const n = parseNumberValue(item.value);
        if (n !== undefined) return n;
      }
    }
    throw new TextFormatError(`<Stage limits> has no numeric "${prefix} ${axis}"`, 1);
  };
  return STAGE_AXIS_LETTERS.map((axis) => ({
    min: lookup('Soft limit min', axis),
    max: lookup('Soft limit max', axis),
    home: lookup('Home', axis),
    unload: lookup('Unload position', axis),
    defaultVelocity: lookup('Default velocity', axis),
    maxVelocity: lookup('Max velocity', axis),
  }));
}
