/**
 * Soak counterexamples found after LASER_LEVEL_SET became fire-and-forget with a
 * LASER_LEVEL_GET read-back (spec/protocol.md §5.4, src/client/helpers/lasers.ts).
 * Each replays the shrunk command list against the cell and simulator seed it came from.
 */
import { describe, expect, it } from 'vitest';
import { AbortedRead, TimedOutRead } from '../model/abort-commands.js';
import { LaserSetGet } from '../model/laser-commands.js';
import { MoveBy } from '../model/move-commands.js';
import { ConcurrentReads } from '../model/read-commands.js';
import { WaitForMotion } from '../model/wait-commands.js';
import { RunWorkflow } from '../model/workflow-commands.js';
import { CloseAtAnyPoint, QueuedSections, SharedSignalAbort } from '../model/misuse.js';
import { profile, replay } from '../model/replay.js';

describe('regressions: laser set and read-back under reconnect', () => {
  it('reconnect/tcp/lease sim seed 1342177266: setLevel reads back the level it set after a timed-out read', async () => {
    const rig = await replay('tcp', 'lease', profile('reconnect'), 1342177266, [
      new ConcurrentReads([
        { kind: 'laser', laser: 1 },
        { kind: 'axis', axis: 1 },
        { kind: 'laser', laser: 1 },
        { kind: 'laser', laser: 1 },
        { kind: 'laser', laser: 1 },
        { kind: 'position', axis: 1 },
        { kind: 'laser', laser: 1 },
      ]),
      new TimedOutRead(1),
      new LaserSetGet(1, 0),
    ]);
    expect(rig.disconnects).toBeGreaterThanOrEqual(0);
  });

  it.each(['memory', 'tcp'] as const)('reconnect/%s/lease sim seed 612465764: lasers.level after setLevel reads the level set', async (transport) => {
    const rig = await replay(transport, 'lease', profile('reconnect'), 612465764, [
      new LaserSetGet(1, 0),
      new LaserSetGet(1, 0),
      new MoveBy(1, 0, 1),
      new TimedOutRead(1),
      new QueuedSections([1, 1, 1, 1]),
      new AbortedRead(1, 'immediate'),
      new LaserSetGet(1, 1),
    ]);
    expect(rig.disconnects).toBeGreaterThanOrEqual(0);
  });

  it('reconnect/memory/sequenced soak seed 356506051 (sim seed 20): waitForMotion after a workflow', async () => {
    const rig = await replay('memory', 'sequenced', profile('reconnect'), 20, [
      new LaserSetGet(1, 0),
      new ConcurrentReads([{ kind: 'laser', laser: 1 }, { kind: 'laser', laser: 1 }, { kind: 'position', axis: 1 }, { kind: 'state' }]),
      new SharedSignalAbort(1, 'sync'),
      new QueuedSections([1, 1, 1]),
      new CloseAtAnyPoint(1, 'afterFirstReply'),
      new RunWorkflow(4, { index: 3, hundredths: 2217 }),
      new WaitForMotion(2),
    ]);
    expect(rig.disconnects).toBeGreaterThanOrEqual(0);
  });
});
