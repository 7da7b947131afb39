/** The client against the simulator, in both modes, over loopback TCP and the memory pair. */
import { afterEach, describe, expect, it } from 'vitest';
import { Command, FlamingoClient, ProtocolError, buildWorkflowText, createMemoryPair, type Packet } from 'flamingo-protocol';
import { SimulatedMicroscope } from 'flamingo-protocol/sim';
import { outcome } from '../support/client-harness.js';

type Kind = 'tcp' | 'memory';
const CASES: [Kind, boolean][] = [
  ['tcp', true],
  ['tcp', false],
  ['memory', true],
  ['memory', false],
];

let sim: SimulatedMicroscope | null = null;
let client: FlamingoClient | null = null;
afterEach(async () => {
  await client?.close();
  await sim?.close();
  client = null;
  sim = null;
});

async function start(kind: Kind, echoSequence: boolean, faults?: string): Promise<{ sim: SimulatedMicroscope; client: FlamingoClient }> {
  sim = new SimulatedMicroscope({ echoSequence, seed: 3, timeScale: 1000, workflowDurationMs: 200, ...(faults ? { faults } : {}) });
  if (kind === 'tcp') {
    const { port } = await sim.listen({ port: 0, host: '127.0.0.1' });
    client = await FlamingoClient.connect({ host: '127.0.0.1', port });
  } else {
    const s = sim;
    client = await FlamingoClient.connect({
      transport: () => {
        const [mine, theirs] = createMemoryPair({ fragmentMaxBytes: 40, seed: 5 });
        s.attach(theirs);
        return mine;
      },
    });
  }
  return { sim, client };
}

describe.each(CASES)('client vs simulator over %s, echoSequence %s', (kind, echoSequence) => {
  it('picks the mode and drives stage, lasers, system and settings', async () => {
    const { sim, client } = await start(kind, echoSequence);
    expect(client.mode).toBe(echoSequence ? 'sequenced' : 'lease');
    expect(await client.system.state()).toBe('idle');
    const moved = await client.stage.moveTo(1, 7.5);
    expect(moved.axis).toBe(1);
    expect(moved.reached).toBe(true);
    expect(moved.position).toBeCloseTo(7.5, 6);
    expect(await client.stage.position(1)).toBeCloseTo(7.5, 6);
    const refused = await outcome(client.stage.moveTo(1, 99));
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.error).toBeInstanceOf(ProtocolError);
    await client.lasers.setLevel(2, 5);
    expect(await client.lasers.level(2)).toBe(5);
    expect(await client.settings()).toBe(sim.settingsText);
  });

  it('concurrent mixed requests each get their own reply; the simulator saw each exactly once', async () => {
    const { sim, client } = await start(kind, echoSequence);
    await Promise.all([client.lasers.setLevel(1, 11), client.lasers.setLevel(3, 33), client.lasers.setLevel(4, 44)]);
    const [x, y, z, r, l1, l3, l4, state] = await Promise.all([
      client.stage.position(1),
      client.stage.position(2),
      client.stage.position(3),
      client.stage.position(4),
      client.lasers.level(1),
      client.lasers.level(3),
      client.lasers.level(4),
      client.system.state(),
    ]);
    expect([x, y, z, r]).toEqual([1, 2, 3, 4].map((a) => sim.stagePosition(a)));
    expect([l1, l3, l4, state]).toEqual([11, 33, 44, 'idle']);
    const gets = sim.records.filter((rec) => rec.code === Command.STAGE_POSITION_GET).map((rec) => rec.int32Data0);
    expect(gets.sort()).toEqual([1, 2, 3, 4]);
  });

  it('runs a workflow: progress, stack counts, idle', async () => {
    const { client } = await start(kind, echoSequence);
    const progress: { value: number; max: number }[] = [];
    const result = await client.workflow.start(buildWorkflowText({ numberOfPlanes: 5 }), {
      onProgress: (p) => progress.push(p),
    });
    // No stack-complete by default (never observed): the counts come from the last gauge value.
    expect(result).toMatchObject({ stacks: 0, expected: 5, acquired: 5, errors: 0, countsFrom: 'gauge' });
    // The gauge size first (value still 0), then one gauge value per plane, whatever the timing.
    expect(progress).toEqual([0, 1, 2, 3, 4, 5].map((value) => ({ value, max: 5 })));
    expect(await client.system.state()).toBe('idle');
  });

  it('ignores the stale idle pushed right after the start, and counts stack-complete when the simulator sends it', async () => {
    const { client } = await start(kind, echoSequence);
    const idles: number[] = [];
    client.on('SYSTEM_STATE_IDLE', () => idles.push(1));
    const result = await client.workflow.start(buildWorkflowText({ numberOfPlanes: 3 }));
    expect(idles.length).toBe(2);
    expect(result.acquired).toBe(3);
  });
});

describe('client vs simulator with faults', () => {
  it.each([true, false])('garbage and fragmentation (echoSequence %s): resync events, every request still answered', async (echoSequence) => {
    const { client } = await start('tcp', echoSequence, 'fragment=7,garbage=0.3:20');
    const resyncs: number[] = [];
    client.on('resync', (i) => resyncs.push(i.skippedBytes));
    const positions = await Promise.all([1, 2, 3, 4, 1, 2, 3, 4].map((a) => client.stage.position(a)));
    expect(positions.length).toBe(8);
    expect(resyncs.length).toBeGreaterThan(0);
  });

  it('a simulator disconnect rejects the pending request with ConnectionClosedError', async () => {
    const { client } = await start('tcp', true, 'disconnect=3');
    const events: Packet[] = [];
    client.on('event', (p) => events.push(p));
    const results = await Promise.all([1, 2, 3].map((a) => outcome(client.stage.position(a))));
    // The probe and the first read are answered; the simulator runs the second and hangs up
    // before replying (packet 3), so the second and third reads fail.
    expect(results.map((r) => r.ok)).toEqual([true, false, false]);
    const failed = results.filter((r) => !r.ok);
    for (const r of failed) if (!r.ok) expect((r.error as { code?: string }).code).toBe('CLOSED');
    expect(client.isClosed).toBe(true);
  });
});
