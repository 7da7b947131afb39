/**
 * Found while tracing the orphan-run soak failures (test/regressions/workflow-start-waiting-at-reconnect.test.ts):
 * the same orphan came from an AbortSignal. workflow.start aborted while its
 * CAMERA_WORKFLOW_START waited for its turn (another caller's exclusive section) rejected
 * with AbortError, and the start was written anyway once the section ended: a run the caller
 * had cancelled, tracked by nobody. send() now takes a signal; aborted before the write, the
 * packet is never written.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { AbortError, buildWorkflowText, Command, createMemoryPair, FlamingoClient } from 'flamingo-protocol';
import { SimulatedMicroscope } from 'flamingo-protocol/sim';
import { holdTheLink } from '../support/hold-link.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function setUp(timeScale = 2000): Promise<{ sim: SimulatedMicroscope; client: FlamingoClient; received: string[] }> {
  const sim = new SimulatedMicroscope({ echoSequence: true, seed: 1, timeScale });
  const [clientEnd, simEnd] = createMemoryPair();
  sim.attach(simEnd);
  const client = await FlamingoClient.connect({ mode: 'sequenced', transport: clientEnd });
  cleanup.push(async () => {
    await client.close();
    await sim.close();
  });
  const received: string[] = [];
  sim.on('command', (info) => received.push(info.name));
  return { sim, client, received };
}

/**
 * A client in sequenced mode whose simulator has stopped reading while another caller's
 * 64 KiB upload (64 chunks) is under way: it stalls on backpressure after its first chunks,
 * and whatever the client writes next waits behind it until `resumeReading()`.
 */
async function behindAStalledUpload() {
  const sim = new SimulatedMicroscope({ echoSequence: true, seed: 1, timeScale: 2000 });
  const [clientEnd, simEnd] = createMemoryPair({ highWaterBytes: 4096 });
  sim.attach(simEnd);
  const client = await FlamingoClient.connect({ mode: 'sequenced', transport: clientEnd, uploadChunkBytes: 1024 });
  cleanup.push(async () => {
    await client.close();
    await sim.close();
  });
  const received: string[] = [];
  sim.on('command', (info) => received.push(info.name));
  simEnd.pause();
  const upload = client.send(Command.STAGE_POSITION_SET_SLIDER, undefined, { payload: new Uint8Array(64 * 1024) });
  return { sim, client, received, upload, resumeReading: () => simEnd.resume() };
}

describe('regressions: a send aborted while it waits for its turn', () => {
  it('workflow.start aborted before its start is written never writes it', async () => {
    const { sim, client, received } = await setUp();
    const { release, section } = await holdTheLink(client);
    const controller = new AbortController();
    const text = buildWorkflowText({ numberOfPlanes: 3, lasers: [{ index: 1, name: '405 nm', power: 1, on: false }] });
    const start = client.workflow.start(text, { signal: controller.signal }).then(
      () => 'resolved',
      (error: Error) => error,
    );
    controller.abort();
    // Settled while the link is still held: nothing of it is left waiting.
    const outcome = await start;
    expect(outcome).toBeInstanceOf(AbortError);
    release();
    await section;
    // A round trip: the simulator has run everything written before its answer.
    await client.request(Command.SYSTEM_STATE_GET);
    expect(received).toEqual(['SYSTEM_STATE_GET']);
    expect(sim.snapshot().workflowsRun).toBe(0);
    expect(sim.snapshot().systemState).toBe(0);
  });

  it("workflow.start aborted while its start waits behind another caller's upload never writes it", async () => {
    const { sim, client, received, upload, resumeReading } = await behindAStalledUpload();
    const controller = new AbortController();
    const text = buildWorkflowText({ numberOfPlanes: 3, lasers: [{ index: 1, name: '405 nm', power: 1, on: false }] });
    const start = client.workflow.start(text, { signal: controller.signal }).then(
      () => 'resolved',
      (error: Error) => error,
    );
    controller.abort();
    resumeReading();
    await upload;
    expect(await start).toBeInstanceOf(Error);
    await client.request(Command.SYSTEM_STATE_GET);
    expect(received).toEqual(['STAGE_POSITION_SET_SLIDER', 'SYSTEM_STATE_GET']);
    expect(sim.snapshot().workflowsRun).toBe(0);
  });

  it('workflow.start aborted after its start was written tells the run to stop', async () => {
    // A run of seconds in real time: the abort must land while it runs. At time scale 2000 a
    // 3-plane run could end before this test's turn came on a loaded machine (flaky: the
    // start resolved before the abort).
    const { sim, client, received } = await setUp(1);
    const controller = new AbortController();
    const text = buildWorkflowText({ numberOfPlanes: 500, lasers: [{ index: 1, name: '405 nm', power: 1, on: false }] });
    const start = client.workflow.start(text, { signal: controller.signal }).then(
      () => 'resolved',
      (error: Error) => error,
    );
    await client.waitFor(Command.UI_SET_GAUGE_SIZE, { timeoutMs: 5000 });
    controller.abort();
    expect(await start).toBeInstanceOf(AbortError);
    await client.waitFor(Command.SYSTEM_STATE_IDLE, { timeoutMs: 5000 });
    expect(received.slice(0, 2)).toEqual(['CAMERA_WORKFLOW_START', 'CAMERA_WORKFLOW_STOP']);
    expect(sim.snapshot().systemState).toBe(0);
  });

  it('send() aborted while it waits behind an upload rejects with AbortError and is never written', async () => {
    const { client, received, upload, resumeReading } = await behindAStalledUpload();
    const controller = new AbortController();
    const behind = client.send(Command.STAGE_POSITION_SET, { int32Data0: 4, value: 1 }, { signal: controller.signal }).then(
      () => 'written',
      (error: Error) => error,
    );
    controller.abort();
    resumeReading();
    await upload;
    const outcome = await behind;
    expect(outcome).toBeInstanceOf(AbortError);
    expect((outcome as AbortError).command).toBe('STAGE_POSITION_SET');
    await client.request(Command.SYSTEM_STATE_GET);
    expect(received).toEqual(['STAGE_POSITION_SET_SLIDER', 'SYSTEM_STATE_GET']);
  });

  it('send() with a signal: aborted at the gate it rejects with AbortError and writes nothing; not aborted it is written', async () => {
    const { client, received } = await setUp();
    const { release, section } = await holdTheLink(client);
    const controller = new AbortController();
    const aborted = client.send(Command.STAGE_POSITION_SET, { int32Data0: 4, value: 1 }, { signal: controller.signal }).then(
      () => 'written',
      (error: Error) => error,
    );
    const kept = client.send(Command.STAGE_POSITION_SET, { int32Data0: 4, value: 2 }, { signal: new AbortController().signal });
    controller.abort();
    const outcome = await aborted;
    expect(outcome).toBeInstanceOf(AbortError);
    expect((outcome as AbortError).command).toBe('STAGE_POSITION_SET');
    release();
    await section;
    await kept;
    await client.request(Command.SYSTEM_STATE_GET);
    expect(received).toEqual(['STAGE_POSITION_SET', 'SYSTEM_STATE_GET']);
    // Already aborted: refused at once.
    await expect(client.send(Command.STAGE_HALT, undefined, { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(AbortError);
  });
});
