import { describe, expect, it } from 'vitest';
import {
  ArgumentError,
  buildWorkflowText,
  DEFAULT_SETTINGS_TEXT,
  formatLaserLevel,
  isLaserLevelError,
  LASER_LEVEL_ERROR_TEXT,
  parseLaserLevel,
  parseTextFormat,
  parseWorkflow,
  readStageSettings,
  STACK_OPTIONS,
  tileGrid,
  type StageSettings,
} from '../../src/index.js';

describe('buildWorkflowText', () => {
  it('writes every stack option the instrument knows, and parses it back', () => {
    expect([...STACK_OPTIONS]).toEqual(['None', 'ZStack', 'Tile', 'ZStack Movie', 'ZSweep', 'OPT', 'OPT ZStacks', 'Bidirectional']);
    for (const option of STACK_OPTIONS) {
      const w = parseWorkflow(buildWorkflowText({ stackOption: option }));
      expect(w.stackOption).toBe(option);
      expect(w.stackOptionSettings).toEqual(option === 'Tile' ? [10, 10] : [0, 0]);
    }
    expect(parseWorkflow(buildWorkflowText({ stackOption: 'Tile', overlapPercent: [0, 50] })).stackOptionSettings).toEqual([0, 50]);
  });

  it('writes seven laser slots in the instrument form, the LED lines, paths and capture labels', () => {
    const text = buildWorkflowText({
      lasers: [
        { index: 1, name: '405 nm MLE', power: 0, on: false },
        { index: 3, name: '561 nm MLE', power: 5.875, on: true },
        { index: 7, name: '', power: 1, on: true },
      ],
      led: { on: true, percent: 50, colour: 2 },
      leftPath: false,
      rightPath: true,
      capture: [{ percentage: 80, mode: 1 }, { mode: 3 }],
      newline: '\r\n',
    });
    const source = text.slice(text.indexOf('  <Illumination Source>'), text.indexOf('  </Illumination Path>'));
    expect(source.split('\r\n')).toEqual([
      '  <Illumination Source>',
      '    Laser 1 1: 405 nm MLE = 0.00 0',
      '    Laser 2 = 0.00 0',
      '    Laser 3 3: 561 nm MLE = 5.88 1',
      '    Laser 4 = 0.00 0',
      '    Laser 5 = 0.00 0',
      '    Laser 6 = 0.00 0',
      '    Laser 7 = 1.00 1',
      '    LED_RGB_Board = 50.00 1',
      '    LED selection = 2 1',
      '    LED DAC = 32768 1',
      '  </Illumination Source>',
      '  <Illumination Path>',
      '    Left path = OFF 0',
      '    Right path = ON 1',
      '',
    ]);
    expect(text).toContain('    Camera 1 capture percentage = 80\r\n    Camera 1 capture mode (0 full, 1 from front, 2 from back, 3 none) = 1\r\n');
    expect(text).toContain('    Camera 2 capture percentage = 100\r\n    Camera 2 capture mode (0 full, 1 from front, 2 from back, 3 none) = 3\r\n');
    expect(text).toContain('    Rotational stage velocity (°/s) = 0\r\n');
    const w = parseWorkflow(text);
    expect(w.led).toEqual({ rgbBoard: { value: 50, on: true }, selection: { value: 2, on: true }, dac: { value: 32768, on: true } });
    expect(w.paths).toEqual({ left: false, right: true });
    expect(w.cameraCapture).toEqual([
      { camera: 1, percentage: 80, mode: 1 },
      { camera: 2, percentage: 100, mode: 3 },
    ]);
    expect(w.lasers.filter((l) => l.on).map((l) => [l.index, l.power])).toEqual([
      [3, 5.88],
      [7, 1],
    ]);
  });

  it('refuses bad arguments with ArgumentError before making any text', () => {
    const bad: Parameters<typeof buildWorkflowText>[0][] = [
      { stackOption: 'Snapshot' },
      { stackOption: 'zstack' },
      { stackOption: 'Tile', overlapPercent: [51, 10] },
      { stackOption: 'Tile', overlapPercent: [10, -1] },
      { stackOption: 'ZStack', overlapPercent: [10, 10] },
      { lasers: [{ index: 8, name: 'x', power: 1, on: true }] },
      { lasers: [{ index: 0, name: 'x', power: 1, on: true }] },
      {
        lasers: [
          { index: 2, name: 'a', power: 1, on: true },
          { index: 2, name: 'b', power: 1, on: true },
        ],
      },
      { lasers: [{ index: 2, name: 'a', power: 100.5, on: true }] },
      { saveDirectory: 'a/b' },
      { saveDirectory: 'run\\2' },
      { saveDirectory: '..' },
      { led: { on: true, colour: 4 } },
      { led: { on: true, percent: 101 } },
      { capture: [{ mode: 4 }] },
      { numberOfPlanes: 0 },
    ];
    for (const options of bad) expect(() => buildWorkflowText(options), JSON.stringify(options)).toThrow(ArgumentError);
    expect(() => buildWorkflowText({ saveDirectory: 'a/b' })).toThrow(/one level/);
    expect(parseWorkflow(buildWorkflowText({ saveDirectory: 'run_2026', saveDrive: '/media/deploy/ctlsm1' })).saveDirectory).toBe('run_2026');
  });
});

describe('tileGrid', () => {
  const limits: StageSettings = readStageSettings(parseTextFormat(DEFAULT_SETTINGS_TEXT));

  it('walks the grid the instrument computes: corner-tile centres, overlap step, rounded up, centred', () => {
    const w = parseWorkflow(buildWorkflowText({ stackOption: 'Tile', overlapPercent: [10, 20], start: { x: 10, y: 20 }, end: { x: 12, y: 20 } }));
    const g = tileGrid(w, 1, limits);
    // X: region 2 + 1 = 3 mm, step 0.9 → ceil(3.33) = 4 tiles spanning 3.6, centred: 12.3 … 9.6.
    expect([g.columns, g.rows, g.overlapX, g.overlapY]).toEqual([4, 1, 10, 20]);
    expect(g.stepX).toBeCloseTo(0.9, 12);
    expect(g.stepY).toBe(1);
    expect(g.tiles.map((t) => [t.column, t.row, Number(t.x.toFixed(6)), t.y])).toEqual([
      [0, 0, 12.3, 20],
      [1, 0, 11.4, 20],
      [2, 0, 10.5, 20],
      [3, 0, 9.6, 20],
    ]);
    expect(g.outside).toEqual([]);
  });

  it('says which tiles leave the hard limits, and takes an x/y field of view', () => {
    const w = parseWorkflow(buildWorkflowText({ stackOption: 'Tile', overlapPercent: [0, 0], start: { x: 14.5, y: 6 }, end: { x: 13.5, y: 5 } }));
    const g = tileGrid(w, { x: 1, y: 2 }, limits);
    expect([g.columns, g.rows]).toEqual([2, 2]);
    expect(g.tiles.map((t) => [Number(t.x.toFixed(6)), Number(t.y.toFixed(6)), t.outside])).toEqual([
      [14.5, 6.5, []],
      [13.5, 6.5, []],
      [14.5, 4.5, ['y']],
      [13.5, 4.5, ['y']],
    ]);
    expect(g.outside.length).toBe(2);
    expect(tileGrid(w, 1).outside).toEqual([]);
    expect(() => tileGrid(w, 0)).toThrow(ArgumentError);
  });
});

describe('laser level text', () => {
  it('has one rule for reading and writing it', () => {
    expect([parseLaserLevel('10.67'), parseLaserLevel(' 5.00 '), parseLaserLevel('5.'), parseLaserLevel('.5')]).toEqual([10.67, 5, 5, 0.5]);
    for (const bad of [LASER_LEVEL_ERROR_TEXT, '', '1e2', '0x10', '1,000', 'NaN', '5 %']) expect(parseLaserLevel(bad), bad).toBeUndefined();
    expect([isLaserLevelError('getLevel error'), isLaserLevelError(' getLevel error '), isLaserLevelError('5.00')]).toEqual([true, true, false]);
    expect([formatLaserLevel(5), formatLaserLevel(10.666), formatLaserLevel(0)]).toEqual(['5.00', '10.67', '0.00']);
    expect(() => formatLaserLevel(Number.NaN)).toThrow(ArgumentError);
  });
});
