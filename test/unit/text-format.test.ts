import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  buildWorkflowText,
  decodeTextPayload,
  DEFAULT_SETTINGS_TEXT,
  entryValue,
  findSection,
  formatTextFormat,
  isWorkflowText,
  parseBooleanValue,
  parseNumberList,
  parseNumberValue,
  parseTextFormat,
  parseWorkflow,
  readStageSettings,
  setEntry,
  stageAxisList,
  TextFormatError,
  WorkflowFormatError,
  type TextSection,
} from 'flamingo-protocol';

describe('parseTextFormat', () => {
  it('reads nested sections in order, with empty values, units and CRLF', () => {
    const text = '<Outer>\r\n  Sample = \r\n  Plane spacing (um) = 2.5\r\n  <Inner>\r\n    X (mm) = 7.5\r\n  </Inner>\r\n  After = 1\r\n</Outer>\r\n';
    const doc = parseTextFormat(text);
    expect(doc.newline).toBe('\r\n');
    expect(doc.warnings).toEqual([]);
    expect(doc.root.items).toEqual([
      {
        kind: 'section',
        name: 'Outer',
        items: [
          { kind: 'entry', key: 'Sample', value: '' },
          { kind: 'entry', key: 'Plane spacing (um)', value: '2.5' },
          { kind: 'section', name: 'Inner', items: [{ kind: 'entry', key: 'X (mm)', value: '7.5' }] },
          { kind: 'entry', key: 'After', value: '1' },
        ],
      },
    ]);
  });

  it('keeps a ° in a key, and splits on the first "=" only', () => {
    const doc = parseTextFormat('<Stage limits>\n  Soft limit max R (°) = 720\n  Laser 2 2: 488 nm MLE = 10.67 0\n  Formula = a=b\n</Stage limits>\n');
    const s = findSection(doc.root, 'Stage limits') as TextSection;
    expect(entryValue(s, 'Soft limit max R (°)')).toBe('720');
    expect(entryValue(s, 'Laser 2 2: 488 nm MLE')).toBe('10.67 0');
    expect(entryValue(s, 'Formula')).toBe('a=b');
  });

  it('tolerates stray closing tags with a warning, as the instrument GUI writes them', () => {
    const doc = parseTextFormat('<A>\n  <B>\n  k = v\n  </B>\n  </B>\n  <//B>\n</A>\n');
    expect(doc.warnings).toHaveLength(2);
    expect(findSection(doc.root, 'A', 'B')?.items).toEqual([{ kind: 'entry', key: 'k', value: 'v' }]);
  });

  it('keeps a line without "=" as a bare line', () => {
    const doc = parseTextFormat('<A>\n  just words\n</A>\n');
    expect(findSection(doc.root, 'A')?.items).toEqual([{ kind: 'entry', key: 'just words', value: '', bare: true }]);
    expect(formatTextFormat(doc.root)).toBe('<A>\n  just words\n</A>\n');
  });

  it('setEntry changes a value in place, turns a bare line into an entry, and appends a new key last', () => {
    const doc = parseTextFormat('<A>\n  k = 1\n  just words\n  m = 2\n</A>\n');
    const a = findSection(doc.root, 'A') as TextSection;
    setEntry(a, 'k', '7');
    setEntry(a, 'just words', 'x');
    setEntry(a, 'new', '');
    expect(formatTextFormat(doc.root)).toBe('<A>\n  k = 7\n  just words = x\n  m = 2\n  new = \n</A>\n');
    expect([entryValue(a, 'k'), entryValue(a, 'just words'), entryValue(a, 'new')]).toEqual(['7', 'x', '']);
  });

  it('rejects a section that is never closed, naming its line', () => {
    expect(() => parseTextFormat('<A>\n  k = v\n  <B>\n</A>\n')).toThrow(TextFormatError);
    // Caught outside the expects: asserting inside the catch would pass if nothing threw.
    let caught: unknown;
    try {
      parseTextFormat('x = 1\n<A>\n  k = v\n');
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(TextFormatError);
    expect([(caught as TextFormatError).line, (caught as TextFormatError).code]).toEqual([2, 'ARGUMENT']);
  });

  it('round-trips the default settings text exactly', () => {
    const doc = parseTextFormat(DEFAULT_SETTINGS_TEXT);
    expect(formatTextFormat(doc.root, { newline: doc.newline })).toBe(DEFAULT_SETTINGS_TEXT);
    expect(Buffer.byteLength(DEFAULT_SETTINGS_TEXT)).toBeGreaterThan(2500);
    expect(Buffer.byteLength(DEFAULT_SETTINGS_TEXT)).toBeLessThan(4000);
    // The sections of a real instrument's settings file (spec/text-format.md), in file order.
    expect(doc.root.items.map((item) => (item.kind === 'section' ? item.name : `entry ${item.key}`))).toEqual([
      'Filter wheel encoder counts',
      'Filter wheel position assignments',
      'Illumination settings',
      'Stage limits',
      'Camera overlap settings',
      'LED settings',
      'Type',
    ]);
  });

  it('formats any tree so that it parses back to the same tree (property)', () => {
    const key = fc.stringMatching(/^[A-Za-z°][A-Za-z0-9 ()/%°:.]{0,20}[A-Za-z0-9)°]$/).filter((k) => !k.startsWith('<'));
    const value = fc.stringMatching(/^([A-Za-z0-9.,:/_-]([A-Za-z0-9.,:/ _-]{0,20}[A-Za-z0-9.,:/_-])?)?$/);
    const entry = fc.record({ kind: fc.constant('entry' as const), key, value });
    const { tree } = fc.letrec<{ tree: TextSection }>((tie) => ({
      tree: fc.record({
        kind: fc.constant('section' as const),
        name: key,
        items: fc.array(fc.oneof({ depthSize: 'small', withCrossShrink: true }, entry, tie('tree')), { maxLength: 5 }),
      }),
    }));
    fc.assert(
      fc.property(fc.array(tree, { maxLength: 3 }), fc.constantFrom('\n' as const, '\r\n' as const), (sections, newline) => {
        const root: TextSection = { kind: 'section', name: '', items: sections };
        const doc = parseTextFormat(formatTextFormat(root, { newline }));
        expect(doc.root).toEqual(root);
        expect(doc.warnings).toEqual([]);
      }),
    );
  });
});

describe('values', () => {
  it('reads numbers with thousands separators, lists and booleans', () => {
    expect(parseNumberValue('9,002')).toBe(9002);
    expect(parseNumberValue('10,000,000')).toBe(10_000_000);
    expect(parseNumberValue('-720.0')).toBe(-720);
    expect(parseNumberValue('0.000406')).toBe(0.000406);
    expect(parseNumberValue('1e-3')).toBe(0.001);
    for (const bad of ['', '9,00', '1,2345', 'abc', '1.2.3', '-', '5 0']) expect(parseNumberValue(bad), bad).toBeUndefined();
    expect(parseNumberList('10.67 0')).toEqual([10.67, 0]);
    expect(parseNumberList('ON 1')).toBeUndefined();
    expect([parseBooleanValue('true'), parseBooleanValue('FALSE'), parseBooleanValue('yes')]).toEqual([true, false, undefined]);
  });

  it('decodes a Latin-1 ° (0xB0) when the payload is not UTF-8', () => {
    expect(decodeTextPayload(Uint8Array.of(0x52, 0x20, 0x28, 0xb0, 0x29))).toBe('R (°)');
    expect(decodeTextPayload(new TextEncoder().encode('R (°)'))).toBe('R (°)');
  });

  it('reads the stage limits of the default settings', () => {
    const axes = stageAxisList(readStageSettings(parseTextFormat(DEFAULT_SETTINGS_TEXT)));
    expect(axes.map((a) => [a.softMin, a.softMax, a.hardMin, a.hardMax])).toEqual([
      [1, 15, 1, 15],
      [5, 25, 5, 25],
      [8, 25, 8, 25],
      [-720, 720, -720, 720],
    ]);
    expect(axes.map((a) => a.defaultVelocity)).toEqual([0.999999, 0.999999, 0.999999, 49.999998]);
    expect(axes.map((a) => a.unload)).toEqual([7.5, 5, 8, 0]);
    expect(axes.map((a) => a.home)).toEqual([1, 5, 8, 0]);
    expect(() => readStageSettings(parseTextFormat('<Type>\n</Type>\n'))).toThrow(TextFormatError);
  });
});

describe('workflow text', () => {
  it('builds the sections in the documented order and parses back', () => {
    const text = buildWorkflowText({ numberOfPlanes: 1234, exposureUs: 9002, start: { x: 2, y: 6, z: 10, r: 45 } });
    const doc = parseTextFormat(text);
    const ws = findSection(doc.root, 'Workflow Settings') as TextSection;
    expect(ws.items.map((i) => (i.kind === 'section' ? i.name : i.key))).toEqual([
      'Experiment Settings',
      'Camera Settings',
      'Stack Settings',
      'Start Position',
      'End Position',
      'Illumination Source',
      'Illumination Path',
      'Illumination Options',
    ]);
    expect(text).toContain('  <Experiment Settings>\n    Plane spacing (um) = 2.5\n');
    expect(text).toContain('Exposure time (us) = 9,002');
    expect(text).toContain('Number of planes = 1,234');
    expect(text).toContain('Laser 2 2: 488 nm MLE = 5.00 1');
    expect(text).toContain('Left path = ON 1');
    const w = parseWorkflow(text);
    expect(w.numberOfPlanes).toBe(1234);
    expect(w.exposureUs).toBe(9002);
    expect(w.frameRate).toBe(40);
    expect(w.start).toEqual({ x: 2, y: 6, z: 10, r: 45 });
    expect(w.end.z).toBeCloseTo(10 + (1233 * 2.5) / 1000, 3);
    expect(w.lasers.map((l) => [l.key, l.power, l.on])).toEqual([
      ['Laser 1', 0, false],
      ['Laser 2 2: 488 nm MLE', 5, true],
      ['Laser 3', 0, false],
      ['Laser 4', 0, false],
      ['Laser 5', 0, false],
      ['Laser 6', 0, false],
      ['Laser 7', 0, false],
    ]);
    expect(Buffer.byteLength(text)).toBeGreaterThan(1000);
  });

  it('derives the plane count from the Z range when it is absent', () => {
    const w = parseWorkflow(
      '<Workflow Settings>\n<Experiment Settings>\nPlane spacing (um) = 10\n</Experiment Settings>\n<Start Position>\nZ (mm) = 10\n</Start Position>\n<End Position>\nZ (mm) = 10.5\n</End Position>\n</Workflow Settings>\n',
    );
    expect(w.numberOfPlanes).toBe(51);
  });

  it('tells workflow texts from other texts', () => {
    expect(isWorkflowText(buildWorkflowText({ newline: '\r\n' }))).toBe(true);
    for (const bad of [
      '',
      'hello',
      DEFAULT_SETTINGS_TEXT,
      '<Workflow Settings>\n</Workflow Settings>\n',
      '<Workflow Settings>\n<Stack Settings>\nNumber of planes = 0\n</Stack Settings>\n</Workflow Settings>\n',
      '<Workflow Settings>\n<Stack Settings>\nNumber of planes = many\n</Stack Settings>\n</Workflow Settings>\n',
      '<Workflow Settings>\n<Stack Settings>\n',
    ]) {
      expect(isWorkflowText(bad), JSON.stringify(bad)).toBe(false);
    }
    expect(() => parseWorkflow('hello')).toThrow(WorkflowFormatError);
  });

  it('never throws anything but WorkflowFormatError on arbitrary text (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (s) => {
        try {
          parseWorkflow(s);
        } catch (e) {
          expect(e).toBeInstanceOf(WorkflowFormatError);
        }
      }),
    );
  });
});
