/**
 * Soak seed 358358126, cell reconnect/…/sequenced, sim seed 2: "workflow of 1 planes:
 * acquired 3 expected 3" — the counts of a 3-plane run the client had already given up on.
 * workflow.start(3 planes) armed its listeners and waited for its turn to write
 * CAMERA_WORKFLOW_START (another exclusive section held the link: the refresh pass after a
 * reconnect). The link dropped and came back meanwhile; the helper's reconnect check asked
 * SYSTEM_STATE_GET, read "idle" (the start had not been written yet) and rejected with "the
 * run ended before the reconnect" — and then the start was written anyway. That run went on
 * with nobody tracking it; the next workflow.start (1 plane) was refused by the busy
 * instrument and took the orphan's gauge values and idle push as its own. The reconnect
 * check now applies only to a start already written.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { buildWorkflowText, Command, createMemoryPair, FlamingoClient, type Packet } from 'flamingo-protocol';
import { SimulatedMicroscope } from 'flamingo-protocol/sim';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

function text(planes: number): string {
  return buildWorkflowText({ numberOfPlanes: planes, lasers: [{ index: 1, name: '405 nm', power: 1, on: false }] });
}

describe('regressions: a workflow start still waiting for its turn when the link comes back', () => {
  it('sequenced: the start goes out on the new link and the run it starts is the one reported', async () => {
    // Real time (3 planes at 40 frames/s: 75 ms): the run's gauge pushes come well after the answer to
    // the helper's state check, never in the same chunk, so the old order of things shows every time.
    const sim = new SimulatedMicroscope({ echoSequence: true, seed: 1, timeScale: 1 });
    const connections: number[] = [];
    const client = await FlamingoClient.connect({
      mode: 'sequenced',
      transport: () => {
        const [clientEnd, simEnd] = createMemoryPair();
        connections.push(sim.attach(simEnd));
        return clientEnd;
      },
      reconnect: { initialDelayMs: 1, maxDelayMs: 4, whileDown: 'queue' },
    });
    cleanup.push(async () => {
      await client.close();
      await sim.close();
    });
    const received: string[] = [];
    sim.on('command', (info) => received.push(`${info.name}@${info.connectionId}`));

    // Another caller holds the link (as the refresh pass after a reconnect does).
    let release!: () => void;
    let entered!: () => void;
    const inSection = new Promise<void>((resolve) => {
      entered = resolve;
    });
    const section = client.exclusive(async () => {
      entered();
      await new Promise<void>((resolve) => {
        release = resolve;
      });
    });
    await inSection;
    const first = client.workflow.start(text(3), { startTimeoutMs: 5000, timeoutMs: 5000 });
    // The link drops and comes back while the start waits for its turn.
    const reconnected = new Promise((resolve) => client.once('reconnected', resolve));
    sim.disconnect(connections[0] as number);
    await reconnected;
    release();
    await section;

    const result = await first;
    expect(result).toMatchObject({ countsFrom: 'gauge', acquired: 3, expected: 3, errors: 0, stacks: 0, stopped: false });
    expect(received.filter((r) => r.startsWith('CAMERA_WORKFLOW_START'))).toEqual([`CAMERA_WORKFLOW_START@${connections[1]}`]);
    expect(sim.snapshot().workflowsRun).toBe(1);

    // The next run gets its own counts.
    const gauges: Packet[] = [];
    const onEvent = (p: Packet): void => {
      if (p.code === Command.UI_SET_GAUGE_VALUE) gauges.push(p);
    };
    client.on('event', onEvent);
    const second = await client.workflow.start(text(1), { startTimeoutMs: 5000, timeoutMs: 5000 });
    client.off('event', onEvent);
    expect(second).toMatchObject({ countsFrom: 'gauge', acquired: 1, expected: 1, errors: 0 });
    expect(gauges.map((p) => [p.int32Data0, p.int32Data1])).toEqual([[1, 1]]);
    expect(sim.snapshot().workflowsRun).toBe(2);
  });
});
