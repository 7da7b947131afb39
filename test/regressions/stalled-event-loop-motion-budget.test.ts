/**
 * Soak seed 5151003 (batch seed 5151012), cell reconnect/tcp/lease, sim seed 1385453613:
 * "moveBy(2, 3.725, read 2): TimeoutError without a dropped reply: waitFor a matching event
 * got no reply within 300 ms", after [abortedRead(1, microtask), abortedRead(3, before),
 * waitForMotion(1), sharedSignalAbort(3, sync), closeAtAnyPoint(2, microtask)]. 180 replays
 * of it (three at once, to load the machine) all passed, and fast-check could not shrink
 * it. The soak ran at nice 15 on two cores with a load average above 5: when the process is
 * not scheduled for a few hundred milliseconds, Node runs the due timer of the 300 ms motion
 * wait before it reads the socket that already holds the STAGE_MOTION_STOPPED. The model now
 * measures the event loop's stalls during each step (test/model/stall-clock.ts) and excuses a
 * missed event budget only when stalls ate at least half of it; a budget missed while the
 * loop ran (the client holding the move back, as in
 * test/regressions/workflow-start-waiting-at-reconnect.test.ts) still fails.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { initialModel } from '../model/model.js';
import { MoveBy, MoveTo } from '../model/move-commands.js';
import { profile } from '../model/replay.js';
import { Rig } from '../model/rig.js';

/** The reconnect profile's 300 ms event budget, without its hang-ups. */
const budget300 = profile('reconnect', { faults: {} });

/** Keep the whole process busy for `ms`: what a machine that does not schedule it looks like to Node. */
function stallFor(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // Nothing: the loop is the stall.
  }
}

async function runWithStall(stallMs: number, command: MoveTo | MoveBy): Promise<Rig> {
  const rig = await Rig.start({ transport: 'tcp', mode: 'lease', profile: budget300 }, 1);
  let stalled = false;
  // The process stalls right as the simulator has run the move, before its ack is written.
  rig.sim.on('command', (info) => {
    if (info.name !== 'STAGE_POSITION_SET' || stalled) return;
    stalled = true;
    stallFor(stallMs);
  });
  let failed = true;
  try {
    await fc.asyncModelRun(() => ({ model: initialModel(), real: rig }), [command, new MoveTo(2, 20)]);
    await rig.quiesce();
    failed = false;
  } finally {
    await rig.stop();
    if (!failed) await rig.checkNothingLeft();
  }
  return rig;
}

describe('regressions: a motion budget eaten by a stalled event loop', () => {
  it('reconnect/tcp/lease: a 400 ms stall during moveBy is the machine, not the client; the axis is re-learnt and the next move is exact', async () => {
    const rig = await runWithStall(400, new MoveBy(2, 3.725, 2));
    expect(rig.commands).toBe(2);
    expect(rig.disconnects).toBe(0);
    expect(rig.errors).toEqual([]);
    // The moveBy's stop event did come (late), then the next move's.
    expect(rig.stops[2]?.map((p) => [p.status, p.value])).toEqual([
      [1, 18.725],
      [1, 20],
    ]);
  });

  it('reconnect/tcp/lease: the same with moveTo', async () => {
    const rig = await runWithStall(400, new MoveTo(2, 18.725));
    expect(rig.commands).toBe(2);
    expect(rig.stops[2]?.map((p) => [p.status, p.value])).toEqual([
      [1, 18.725],
      [1, 20],
    ]);
  });
});
