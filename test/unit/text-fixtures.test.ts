import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  ArgumentError,
  decodeTextBytes,
  findSection,
  formatTextBytes,
  formatTextFormat,
  formatWorkflow,
  formatWorkflowBytes,
  lineOf,
  parseTextFormat,
  parseWorkflow,
  readFilterWheel,
  readLedSettings,
  readScopeType,
  readStageSettings,
  setWorkflowLaser,
  WorkflowFormatError,
  type TextEntry,
  type TextSection,
} from '../../src/index.js';

const dir = (sub: string) => new URL(`../fixtures/${sub}/`, import.meta.url);
const load = (sub: string) =>
  readdirSync(dir(sub))
    .filter((f) => f.endsWith('.txt'))
    .sort()
    .map((name) => ({ name, bytes: new Uint8Array(readFileSync(new URL(name, dir(sub)))) }));
const workflows = load('workflows');
const settings = load('settings');
const fixture = (list: typeof workflows, prefix: string) => (list.find((f) => f.name.startsWith(prefix)) as { bytes: Uint8Array }).bytes;

function entries(section: TextSection): TextEntry[] {
  return section.items.flatMap((i) => (i.kind === 'entry' ? [i] : entries(i)));
}

/** Lines of a text with their endings, so a changed ending counts as a changed line. */
const linesOf = (text: string) => text.match(/[^\n]*\n|[^\n]+$/g) ?? [];

describe('fixtures round-trip byte for byte', () => {
  it('has the fixtures the evidence asks for', () => {
    expect(workflows.length).toBeGreaterThanOrEqual(9);
    expect(settings.length).toBeGreaterThanOrEqual(2);
  });

  for (const f of [...workflows, ...settings]) {
    it(`${f.name}: bytes → parse → bytes, and the string form too`, () => {
      const doc = parseTextFormat(f.bytes);
      expect(Buffer.from(formatTextBytes(doc)).equals(Buffer.from(f.bytes))).toBe(true);
      const { text } = decodeTextBytes(f.bytes);
      expect(formatTextFormat(parseTextFormat(text).root)).toBe(text);
    });

    it(`${f.name}: editing any one entry changes exactly its own line`, () => {
      const original = decodeTextBytes(f.bytes).text;
      const count = entries(parseTextFormat(f.bytes).root).length;
      expect(count).toBeGreaterThan(5);
      for (let n = 0; n < count; n++) {
        const doc = parseTextFormat(f.bytes);
        const target = entries(doc.root)[n] as TextEntry;
        const line = lineOf(target) as number;
        target.value = target.value === 'EDITED' ? 'OTHER' : 'EDITED';
        delete target.bare;
        const before = linesOf(original);
        const after = linesOf(formatTextFormat(doc.root));
        expect(after.length).toBe(before.length);
        const changed = after.flatMap((l, i) => (l === before[i] ? [] : [i + 1]));
        expect(changed, `${f.name} entry ${target.key}`).toEqual([line]);
        // The edited line keeps its indentation and line ending.
        const old = before[line - 1] as string;
        const now = after[line - 1] as string;
        expect(now.match(/^\s*/)?.[0]).toBe(old.match(/^\s*/)?.[0]);
        expect(now.endsWith('\r\n')).toBe(old.endsWith('\r\n'));
      }
    });
  }

  for (const f of workflows) {
    it(`${f.name}: parseWorkflow + formatWorkflowBytes gives the file back`, () => {
      const w = parseWorkflow(f.bytes);
      expect(Buffer.from(formatWorkflowBytes(w)).equals(Buffer.from(f.bytes))).toBe(true);
      expect(w.lasers.length).toBeGreaterThanOrEqual(2);
    });
  }
});

describe('exact parse results', () => {
  it('reads the rig form: seven laser slots, LED lines, float noise, thousands, both cameras', () => {
    const w = parseWorkflow(fixture(workflows, '01'));
    expect(w.lasers.map((l) => [l.index, l.name, l.power, l.on, l.wavelengthNm])).toEqual([
      [1, '405 nm MLE', 0, false, 405],
      [2, '488 nm MLE', 10.67, true, 488],
      [3, '561 nm MLE', 5.88, false, 561],
      [4, '640 nm MLE', 8.01, false, 640],
      [5, '', 0, false, undefined],
      [6, '', 0, false, undefined],
      [7, '', 0, false, undefined],
    ]);
    expect(w.led).toEqual({ rgbBoard: { value: 29.82, on: false }, selection: { value: 1, on: false }, dac: { value: 42000, on: false } });
    expect(w.paths).toEqual({ left: true, right: false });
    expect([w.stackOption, w.stackOptionSettings, w.exposureUs, w.numberOfPlanes]).toEqual(['ZStack', [0, 0], 9002, 245]);
    expect(w.start).toEqual({ x: 6.21, y: 14.88, z: Number('12.4949999999999997'), r: 0 });
    expect(w.cameraCapture).toEqual([
      { camera: 1, percentage: 100, mode: 0 },
      { camera: 2, percentage: 60, mode: 2 },
    ]);
    expect([w.saveDrive, w.saveDirectory]).toEqual(['/media/deploy/scratch', 'mouse_brain_07']);
    expect(w.document.newline).toBe('\r\n');
    // The float noise is kept in the text exactly.
    expect(formatWorkflow(w)).toContain('Z (mm) = 12.4949999999999997\r\n');
  });

  it('reads every stack option of the fixtures and the Tile overlaps', () => {
    const options = workflows.map((f) => parseWorkflow(f.bytes).stackOption);
    expect(options).toEqual(['ZStack', 'Tile', 'None', 'ZStack Movie', 'ZSweep', 'OPT', 'OPT ZStacks', 'Bidirectional', 'Tile', 'ZStack']);
    expect(parseWorkflow(fixture(workflows, '02')).stackOptionSettings).toEqual([12, 8]);
    // Fixture 03 writes `Stack option = None` with blank settings.
    expect(parseWorkflow(fixture(workflows, '03')).stackOptionSettings).toEqual([undefined, undefined]);
  });

  it('reads the wavelength-only and 2023 laser forms, and annotated values', () => {
    expect(parseWorkflow(fixture(workflows, '03')).lasers.map((l) => [l.key, l.index, l.name, l.power, l.on])).toEqual([
      ['Laser 1 405 nm', 1, '405 nm', 5, true],
      ['Laser 2 488 nm', 2, '488 nm', 0, false],
      ['Laser 3 561 nm', 3, '561 nm', 0, false],
      ['Laser 4 640 nm', 4, '640 nm', 0, false],
    ]);
    const old = parseWorkflow(fixture(workflows, '08'));
    expect(old.lasers.map((l) => [l.index, l.wavelengthNm, l.power, l.on])).toEqual([
      [1, 640, 0, false],
      [2, 561, 0, false],
      [3, 488, 15, true],
      [4, 405, 0, false],
    ]);
    expect(old.led.rgbBoard).toEqual({ value: 50, on: true });
    expect(old.document.warnings).toEqual([
      expect.stringMatching(/^line 41: closing tag <\/Stack Settings> matches no open section/),
      expect.stringMatching(/^line 42: closing tag <\/\/Stack Settings> matches no open section/),
    ]);
    const annotated = parseWorkflow(fixture(workflows, '10'));
    expect(annotated.lasers.map((l) => [l.power, l.on])).toEqual([
      [5, false],
      [0, false],
    ]);
    expect(annotated.led).toEqual({ rgbBoard: { value: 0, on: false }, selection: { value: 1, on: false }, dac: { value: 48767, on: false } });
  });

  it('reads a Latin-1 ° key as the same key as a UTF-8 one, and keeps its byte', () => {
    const bytes = fixture(workflows, '05');
    expect(bytes.includes(0xb0) && !bytes.includes(0xc2)).toBe(true);
    const w = parseWorkflow(bytes);
    expect(w.document.encoding).toBe('latin1');
    const stack = findSection(w.document.root, 'Workflow Settings', 'Stack Settings') as TextSection;
    expect(stack.items.some((i) => i.kind === 'entry' && i.key === 'Rotational stage velocity (°/s)')).toBe(true);
    expect(parseWorkflow(fixture(workflows, '01')).document.encoding).toBe('utf-8');
  });

  it('end Z below start Z, and the column-0 layout', () => {
    const w = parseWorkflow(fixture(workflows, '09'));
    expect([w.start.z, w.end.z]).toEqual([15.1, 14.8]);
    expect(parseWorkflow(fixture(workflows, '06')).end.r).toBe(360);
  });

  it('an edit through setWorkflowLaser changes only that laser line', () => {
    const bytes = fixture(workflows, '07');
    const w = parseWorkflow(bytes);
    setWorkflowLaser(w, 3, 12.5, true);
    const before = linesOf(decodeTextBytes(bytes).text);
    const after = linesOf(formatWorkflow(w));
    const changed = after.flatMap((l, i) => (l === before[i] ? [] : [l]));
    expect(changed).toEqual([expect.stringMatching(/^ {4}Laser 3 3: 561 nm MLE = 12\.50 1(\r\n|\n)$/)]);
    expect(() => setWorkflowLaser(w, 9, 1, true)).toThrow(ArgumentError);
    expect(() => setWorkflowLaser(w, 3, 101, true)).toThrow(ArgumentError);
  });
});

describe('settings readers', () => {
  it('reads every Stage limits key per axis', () => {
    const s = readStageSettings(parseTextFormat(fixture(settings, '01')));
    expect(s.z).toEqual({ softMin: 10.5, softMax: 24, hardMin: 7.5, hardMax: 24.5, home: 18.25, unload: 7.75, defaultVelocity: 0.749998 });
    expect(s.r).toEqual({ softMin: -360, softMax: 360, hardMin: -720, hardMax: 720, home: 0, unload: 0, defaultVelocity: 39.999996 });
    expect([s.x.hardMin, s.y.unload]).toEqual([1.5, 4.75]);
  });

  it('an absent key is undefined; only a missing section throws', () => {
    const s = readStageSettings(parseTextFormat(fixture(settings, '02')));
    expect(s.r).toEqual({
      softMin: undefined,
      softMax: undefined,
      hardMin: undefined,
      hardMax: undefined,
      home: 0,
      unload: undefined,
      defaultVelocity: undefined,
    });
    expect([s.z.softMin, s.z.softMax, s.z.hardMin]).toEqual([11, undefined, 8]);
    expect(() => readStageSettings(parseTextFormat(fixture(settings, '03')))).toThrow(/line 1: no <Stage limits> section/);
  });

  it('reads Type, LED settings and the filter wheel', () => {
    const doc = parseTextFormat(fixture(settings, '01'));
    expect(readScopeType(doc)).toEqual({
      name: 'bench-2',
      type: 'T, X, L, V SPIM',
      address: { host: '192.168.40.17', port: 53717 },
      builder: 'workshop',
      objectiveMagnification: 6.205,
      tubeLensDesignFocalLengthMm: 200,
      tubeLensLengthMm: 180,
    });
    expect(readScopeType(parseTextFormat(fixture(settings, '02'))).address).toEqual({ host: '10.0.0.5', port: undefined });
    const led = readLedSettings(doc);
    expect([led.selection, led.intensity.green, led.sliderMin, led.sliderMax]).toEqual([2, 55320, 3200000, 6553500]);
    const wheel = readFilterWheel(doc);
    expect(wheel.positions.length).toBe(8);
    expect(wheel.positions[1]).toEqual({ position: 2, encoder: 3590, index: 6, description: '525/45' });
    expect([...wheel.laserSlots]).toEqual([
      [1, 0],
      [2, 1],
      [3, 2],
      [4, 3],
      [5, 4],
      [6, 4],
      [7, 4],
    ]);
    expect(wheel.ledSlot).toBe(4);
  });

  it('a text that cannot be read names the line; a text that is not a workflow says why', () => {
    expect(() => parseTextFormat('<Stage limits>\n  Home x-axis = 1\n<Type>\n  k = v\n</Type>\n')).toThrow(/^line 1: section <Stage limits> is never closed$/);
    expect(() => parseWorkflow(fixture(settings, '01'))).toThrow(WorkflowFormatError);
    expect(() => parseWorkflow(fixture(settings, '01'))).toThrow(/no <Workflow Settings> section \(this looks like a settings text\)/);
    const bad = decodeTextBytes(fixture(workflows, '01')).text.replace('Number of planes = 245', 'Number of planes = lots');
    expect(() => parseWorkflow(bad)).toThrow(/line 23 \("Number of planes"\) is not a number: "lots"/);
    const badLaser = decodeTextBytes(fixture(workflows, '01')).text.replace('Laser 3 3: 561 nm MLE = 5.88 0', 'Laser 3 3: 561 nm MLE = high 0');
    expect(() => parseWorkflow(badLaser)).toThrow(/line 55 \("Laser 3 3: 561 nm MLE"\) must be "<number> <0 or 1>"/);
  });
});
