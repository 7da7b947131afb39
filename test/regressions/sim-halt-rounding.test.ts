/**
 * Soak counterexample (issue 18 client model, cell flood/tcp/sequenced, FC_NUM_RUNS=30):
 * [reentrantSection(1, refreshInside), reads(...), reads(...), moveThenHalt(1, 2.962)].
 * A halt that arrived as the move completed reported 2.9619999999999997 for a move
 * 7.5 → 2.962: the interpolation `from + (target − from) · 1` is not exactly `target` in
 * floating point, and the halted position fell outside the travel of the move. The same
 * fix reached main from another counterexample (test/regressions/sim-halt-at-end.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS_TEXT, parseTextFormat, readStageSettings } from '../../src/index.js';
import { StageModel, simAxisLimits } from '../../mocks/stage.js';
import { TimerSet } from '../../mocks/timers.js';

describe('regressions: simulator halt rounding', () => {
  it('a move 7.5 → 2.962 that has run its whole duration is exactly at 2.962 (halt reports no overshoot)', () => {
    const timers = new TimerSet();
    const stage = new StageModel(simAxisLimits(readStageSettings(parseTextFormat(DEFAULT_SETTINGS_TEXT))), timers, 1000, () => undefined);
    try {
      expect(stage.moveTo(1, 2.962)).toBe('moving');
      expect(stage.position(1, performance.now() + 1e9)).toBe(2.962);
    } finally {
      timers.clearAll();
    }
  });
});
