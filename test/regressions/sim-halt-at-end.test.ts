import { describe, expect, it } from 'vitest';
import { StageModel, simAxisLimits } from '../../mocks/stage.js';
import { TimerSet } from '../../mocks/timers.js';
import { DEFAULT_SETTINGS_TEXT, parseTextFormat, readStageSettings } from '../../src/index.js';

describe('regression: model-tcp flood/tcp/lease counterexample [moveTo(4, -473.299), moveThenHalt(4, 169.296)]', () => {
  // A halt landing exactly at the end of a move reported 169.29600000000005: from + (target −
  // from) × 1 is one ulp past the target, outside the move's range.
  it('a position read at or after the end of a move is the target exactly, never beyond it', () => {
    const timers = new TimerSet();
    const stage = new StageModel(
      simAxisLimits(readStageSettings(parseTextFormat(DEFAULT_SETTINGS_TEXT))),
      timers,
      1,
      () => undefined,
      [7.5, 15, 16.5, -473.299],
    );
    try {
      expect(stage.moveTo(4, 169.296)).toBe('moving');
      const a = stage.snapshot(4);
      expect(a.target).toBe(169.296);
      expect(stage.position(4, Number.MAX_SAFE_INTEGER)).toBe(169.296);
    } finally {
      stage.dispose();
      timers.clearAll();
    }
  });
});
