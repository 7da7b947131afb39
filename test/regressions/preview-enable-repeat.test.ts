/**
 * Counterexample from test/state-properties.test.ts (model check, while LASER_PREVIEW_ENABLE
 * was first applied on write): writing it for the laser that is already the only one in
 * preview built a new snapshot with equal values, so `change` fired for nothing. The
 * mirror must report "no change" and keep the same snapshot object.
 */
import { describe, expect, it } from 'vitest';
import { Command, InstrumentState } from 'flamingo-protocol';

describe('regression: a repeated LASER_PREVIEW_ENABLE write is not a change', () => {
  it('first write changes every laser, the repeat changes nothing and fires no change', () => {
    const state = new InstrumentState();
    let changes = 0;
    state.on('change', () => changes++);
    expect(state.noteRequestSent({ code: Command.LASER_PREVIEW_ENABLE, int32Data0: 2 })).toBe(true);
    const after = state.snapshot();
    expect([1, 2, 3, 4].map((i) => after.lasers[i as 1 | 2 | 3 | 4].enabled)).toEqual([false, true, false, false]);
    expect(state.noteRequestSent({ code: Command.LASER_PREVIEW_ENABLE, int32Data0: 2 })).toBe(false);
    expect(state.snapshot()).toBe(after);
    expect(changes).toBe(1);
    expect(state.noteRequestSent({ code: Command.LASER_PREVIEW_ENABLE, int32Data0: 9 })).toBe(false);
  });
});
