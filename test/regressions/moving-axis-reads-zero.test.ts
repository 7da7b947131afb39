/**
 * Soak seed 354966201 (batch seed 354966224), cells none/*, fragment/*, garbage/* and
 * flood/*: "GET axis 1 resolved with 0, expected 1..15". The aborted move had gone out, so
 * the axis was still moving when the next read came; the instrument reads 0.000 while an
 * axis moves (spec/commands.json, STAGE_POSITION_GET "whileMoving"), and the simulator
 * does the same. The model allowed only a value within the axis' limits for an axis whose
 * position it does not know; it now allows the while-moving reading too.
 */
import { describe, expect, it } from 'vitest';
import { AbortedMove } from '../model/abort-commands.js';
import { ConcurrentReads } from '../model/read-commands.js';
import { ReentrantSection } from '../model/misuse.js';
import { profile, replay } from '../model/replay.js';

describe('regressions: a read of a moving axis', () => {
  it('none/memory/sequenced: a GET right after an aborted move may read 0.000 (the axis is moving)', async () => {
    const rig = await replay('memory', 'sequenced', profile('none'), 1, [new AbortedMove(1, 1, 'microtask'), new ReentrantSection(1, 'nestedExclusive')]);
    expect(rig.commands).toBe(2);
    expect(rig.errors).toEqual([]);
  });

  it('none/tcp/sequenced: the same with a plain concurrent read', async () => {
    const rig = await replay('tcp', 'sequenced', profile('none'), 1, [new AbortedMove(1, 1, 'microtask'), new ConcurrentReads([{ kind: 'axis', axis: 1 }])]);
    expect(rig.commands).toBe(2);
    expect(rig.errors).toEqual([]);
  });
});
