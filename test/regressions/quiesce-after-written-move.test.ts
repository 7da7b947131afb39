/**
 * Soak seed 358358126 (batch seed 358358203), cell reconnect/memory/sequenced, sim seed 25:
 * "client emitted 7 events, simulator sent 8" after [workflow(2), reads(…),
 * abortedMove(2, 19.305, microtask), sharedSignalAbort(4, sync)]. The aborted move had been
 * written (the abort came after the write) but the simulator had not run it yet when the
 * rig began to bring the run to rest: the wait for a resting stage passed at once, the final
 * round trip's reply came while the axis moved, and its STAGE_MOTION_STOPPED went out after
 * the rig had counted the events. The client lost nothing; the rig's end-of-run check was
 * wrong. quiesce() now makes a round trip first (every command written before it has run),
 * then waits for rest, then makes the round trip that flushes the events.
 */
import { describe, expect, it } from 'vitest';
import { Command } from '../../protocol/commands.js';
import { AbortedMove } from '../model/abort-commands.js';
import { ConcurrentReads } from '../model/read-commands.js';
import { RunWorkflow } from '../model/workflow-commands.js';
import { SharedSignalAbort } from '../model/misuse.js';
import { profile, replay } from '../model/replay.js';
import { Rig } from '../model/rig.js';

describe('regressions: the rig brings a run to rest after a move written at its very end', () => {
  it('none/memory/sequenced: quiesce() waits for a move that was written but not yet run, and counts its stop event', async () => {
    const rig = await Rig.start({ transport: 'memory', mode: 'sequenced', profile: profile('none') }, 1);
    try {
      rig.issue(Command.STAGE_POSITION_SET);
      // Written, no reply awaited (no flag: the instrument runs the move and does not answer),
      // as an aborted moveTo leaves it. R from 0 to 720 degrees: 7.2 ms at the rig's time scale.
      await rig.client.send(Command.STAGE_POSITION_SET, { int32Data0: 4, value: 720 });
      await rig.quiesce();
      expect(rig.sim.snapshot().stage[3]?.moving).toBe(false);
      expect(rig.stops[4]?.map((p) => [p.status, p.int32Data0, p.value])).toEqual([[1, 4, 720]]);
      expect(rig.clientEvents.length).toBe(rig.sentEvents().length);
    } finally {
      await rig.stop();
    }
    await rig.checkNothingLeft();
  });

  it('reconnect/memory/sequenced: the soak counterexample ends with every event counted', async () => {
    const rig = await replay('memory', 'sequenced', profile('reconnect'), 25, [
      new RunWorkflow(2, null),
      new ConcurrentReads([
        { kind: 'axis', axis: 2 },
        { kind: 'laser', laser: 3 },
        { kind: 'axis', axis: 2 },
        { kind: 'state' },
        { kind: 'position', axis: 1 },
        { kind: 'position', axis: 1 },
      ]),
      new AbortedMove(2, 19.305, 'microtask'),
      new SharedSignalAbort(4, 'sync'),
    ]);
    expect(rig.commands).toBe(4);
    expect(rig.errors).toEqual([]);
    expect(rig.clientEvents.length).toBe(rig.sentEvents().length);
  });
});
