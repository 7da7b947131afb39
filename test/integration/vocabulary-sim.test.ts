/**
 * The app vocabulary against the simulator: camera, illumination, multi-axis stage, storage,
 * workflow stop, tile runs, and the named events (also for changes another client makes).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ArgumentError, Command, DEFAULT_SETTINGS_TEXT, buildWorkflowText, type FlamingoClient } from 'flamingo-protocol';
import { SimClients, type Kind, type Mode } from '../support/sim-clients.js';

let env: SimClients | null = null;
afterEach(async () => {
  await env?.cleanup();
  env = null;
});

/** Resolve with the next `name` event of `client`, or reject after `ms`. */
function next<T>(client: FlamingoClient, name: string, ms = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${name} within ${ms} ms`)), ms);
    (client as unknown as { once(n: string, f: (v: T) => void): void }).once(name, (v: T) => {
      clearTimeout(timer);
      resolve(v);
    });
  });
}

/** Count `name` events of `client` from now on. */
function count(client: FlamingoClient, name: string): { n: number; values: unknown[] } {
  const box = { n: 0, values: [] as unknown[] };
  (client as unknown as { on(n: string, f: (v: unknown) => void): void }).on(name, (v) => {
    box.n++;
    box.values.push(v);
  });
  return box;
}

const CASES: [Kind, Mode][] = [
  ['memory', 'sequenced'],
  ['memory', 'lease'],
];

describe.each(CASES)('vocabulary against the simulator (%s, %s)', (kind, mode) => {
  it('camera: image size, pixel size, exposure; a crop changes the image size and restarts live view', async () => {
    env = new SimClients(mode);
    const client = await env.connect(kind);
    expect(await client.camera.imageSize()).toEqual({ width: 2048, height: 2048, sensorPixelUm: 6.5 });
    expect(await client.camera.pixelSizeMm()).toBe(0.000406);
    expect(await client.camera.exposureUs()).toBe(10_000);
    const started = count(client, 'liveStarted');
    const stopped = count(client, 'liveStopped');
    await client.camera.startLive();
    expect(await client.camera.setRoi({ width: 1024, height: 512 })).toEqual({ width: 1024, height: 512, sensorPixelUm: 6.5 });
    expect(env.sim.snapshot().roi).toEqual({ left: 513, top: 769, width: 1024, height: 512 });
    expect(env.sim.snapshot().liveView).toBe(true);
    expect(client.state.snapshot().camera).toMatchObject({ width: 1024, height: 512, live: true });
    expect([started.n, stopped.n]).toEqual([2, 1]); // start, stop for the crop, start again
    expect(await client.camera.stopLive()).toBe(true);
    expect(stopped.n).toBe(2);
    expect(await client.camera.stopLive()).toBe(true); // the simulator acknowledges a stop when nothing runs
    expect(stopped.n).toBe(2); // no change, no event
  });

  it('LED and illumination: DAC mapping, paths, prepareLive; the state shows in the simulator and one event per change', async () => {
    env = new SimClients(mode);
    const client = await env.connect(kind);
    const changes = count(client, 'illuminationChanged');
    await client.led.set(2, 50);
    await client.led.enable();
    expect(env.sim.snapshot().ledPreview).toEqual({ colour: 2, dac: 48767, on: true });
    expect(changes.n).toBe(2);
    await client.led.enable(); // already on: no change
    expect(changes.n).toBe(2);
    await client.illumination.prepareLive({ laser: { index: 3, percent: 12.5 }, path: 'right' });
    const snap = env.sim.snapshot();
    expect(snap.ledPreview.on).toBe(false);
    expect(snap.illumination).toEqual({ left: false, right: true });
    expect(snap.lasers.map((l) => l.previewOn)).toEqual([false, false, true, false]);
    expect(snap.lasers[2]?.level).toBe(12.5);
    const last = changes.values.at(-1);
    expect(last).toEqual({ lasers: { 1: false, 2: false, 3: true, 4: false }, led: { colour: 0, dac: 48767, on: false }, left: false, right: true });
  });

  it('stage: limits from the settings text, moveToMany with one command per axis and read-back, home by the Home values', async () => {
    // Hard and soft limits told apart: a hard X limit beyond the soft one.
    env = new SimClients(mode, { settingsText: DEFAULT_SETTINGS_TEXT.replace('Hard limit max x-axis = 15.000', 'Hard limit max x-axis = 16.000') });
    const client = await env.connect(kind);
    const limits = await client.stage.limits();
    expect(limits.x).toEqual({ softMin: 1, softMax: 15, hardMin: 1, hardMax: 16, home: 1, unload: 7.5, defaultVelocity: 0.999999 });
    expect(limits.r).toMatchObject({ softMin: -720, softMax: 720, defaultVelocity: 49.999998 });
    expect(await client.stage.limits()).toBe(limits); // cached
    const settingsReads = env.sim.records.filter((r) => r.code === Command.COMMON_SCOPE_SETTINGS_LOAD).length;
    expect(settingsReads).toBe(1);
    const stageEvents = count(client, 'stage');
    expect(await client.stage.moveToMany({ x: 9, y: 17.5, z: 10 })).toEqual({ x: 9, y: 17.5, z: 10 });
    const moves = env.sim.records.filter((r) => r.code === Command.STAGE_POSITION_SET);
    expect(moves.map((r) => [r.int32Data0, r.value])).toEqual([
      [1, 9],
      [2, 17.5],
      [3, 10],
    ]);
    expect([1, 2, 3].map((a) => env!.sim.stagePosition(a))).toEqual([9, 17.5, 10]);
    // Each axis: moving, then stopped at its target (the read-back repeats the position: no event).
    expect(
      stageEvents.values
        .filter((e) => (e as { moving: boolean }).moving === false)
        .map((e) => (e as { axis: string }).axis)
        .sort(),
    ).toEqual(['x', 'y', 'z']);
    const before = env.sim.records.length;
    await expect(client.stage.moveToMany({ x: 9, y: 30 })).rejects.toBeInstanceOf(ArgumentError);
    expect(env.sim.records.length).toBe(before); // nothing sent, not even the first axis
    expect(await client.stage.home()).toEqual({ x: 1, y: 5, z: 8, r: 0 });
    expect(env.sim.records.some((r) => r.code === Command.STAGE_HOME)).toBe(false);
    expect(await client.stage.limits({ refresh: true })).not.toBe(limits);
  });

  it('storage drives and workflow stop when nothing runs', async () => {
    env = new SimClients(mode);
    const client = await env.connect(kind);
    expect(await client.storage.drives()).toEqual(['/media/deploy/ctlsm1', '/media/deploy/MSN_LS']);
    expect(await client.workflow.stop()).toBe(1);
  });

  it('workflow.stop ends a running start() with stopped: true; acquisition events fire once each', async () => {
    env = new SimClients(mode, { workflowDurationMs: 600_000, timeScale: 10 });
    const client = await env.connect(kind);
    const started = count(client, 'acquisitionStarted');
    const finished = count(client, 'acquisitionFinished');
    const run = client.workflow.start(buildWorkflowText({ numberOfPlanes: 50 }));
    await next(client, 'acquisitionProgress');
    expect(await client.workflow.stop()).toBe(1);
    const result = await run;
    expect(result.stopped).toBe(true);
    expect(result.acquired).toBeLessThan(50);
    expect([started.n, finished.n]).toEqual([1, 1]);
  });

  it('tile workflow: one STAGE_MOTION_STOPPED per tile, no gauge, ends idle', async () => {
    // 6 tiles × 50 ms: a tile run sends no gauge, so its start shows only through the busy poll.
    env = new SimClients(mode, { workflowDurationMs: 300_000 });
    const client = await env.connect(kind);
    const stops = count(client, 'STAGE_MOTION_STOPPED');
    const gauges = count(client, 'UI_SET_GAUGE_VALUE');
    // FOV 0.000406 mm × 2048 px = 0.8315 mm; overlap 10 % → step 0.7483 mm;
    // x: ceil((1.0 + 0.8315) / 0.7483) = 3 tiles, y: ceil((0.5 + 0.8315) / 0.7483) = 2 tiles.
    const text = buildWorkflowText({ stackOption: 'Tile', overlapPercent: [10, 10], start: { x: 7, y: 15 }, end: { x: 8, y: 15.5, z: 16 }, numberOfPlanes: 5 });
    const result = await client.workflow.start(text, { pollIntervalMs: 20 });
    expect(result.stopped).toBe(false);
    expect(stops.n).toBe(6);
    expect(gauges.n).toBe(0);
    expect(env.sim.snapshot().workflowsRun).toBe(1);
  });

  it('tile workflow started by this client: acquisitionStarted once its start is confirmed, acquisitionFinished at its end, no progress (issue 15)', async () => {
    env = new SimClients(mode, { workflowDurationMs: 300_000 });
    const client = await env.connect(kind);
    const order: string[] = [];
    for (const name of ['acquisitionStarted', 'acquisitionProgress', 'acquisitionFinished']) {
      (client as unknown as { on(n: string, f: (v: unknown) => void): void }).on(name, (v) => order.push(`${name} ${JSON.stringify(v)}`));
    }
    const stops = count(client, 'STAGE_MOTION_STOPPED');
    const text = buildWorkflowText({ stackOption: 'Tile', overlapPercent: [10, 10], start: { x: 7, y: 15 }, end: { x: 8, y: 15.5, z: 16 }, numberOfPlanes: 5 });
    const result = await client.workflow.start(text, { pollIntervalMs: 20 });
    expect([result.countsFrom, stops.n]).toEqual(['none', 6]);
    expect(order).toEqual(['acquisitionStarted {}', 'acquisitionFinished {}']);
    expect(client.state.snapshot().workflow.running).toBe(false);
  });

  it('another client sees live view, LED and path changes as named events, once each', async () => {
    env = new SimClients(mode);
    const a = await env.connect(kind);
    const b = await env.connect(kind);
    const live = count(b, 'liveStarted');
    const light = count(b, 'illuminationChanged');
    const seen = next(b, 'liveStarted');
    await a.camera.startLive();
    await seen;
    const lit = next(b, 'illuminationChanged');
    await a.led.set(1, 10);
    await lit;
    const path = next(b, 'illuminationChanged');
    await a.illumination.left(true);
    await path;
    expect(live.n).toBe(1);
    expect(light.values).toEqual([
      { lasers: { 1: undefined, 2: undefined, 3: undefined, 4: undefined }, led: { colour: 1, dac: 35353, on: undefined }, left: undefined, right: undefined },
      { lasers: { 1: undefined, 2: undefined, 3: undefined, 4: undefined }, led: { colour: 1, dac: 35353, on: undefined }, left: true, right: undefined },
    ]);
    expect(b.state.snapshot().camera.live).toBe(true);
  });
});

describe('live frames follow the camera crop (issue 15)', () => {
  it('at scale 1 a frame is the size CAMERA_IMAGE_SIZE_GET answers, before and after setRoi; live view keeps running', async () => {
    // A 64 × 32 sensor with frames as large as the sensor: scale 1, so the frame is the crop itself.
    env = new SimClients('lease', { imageWidth: 64, imageHeight: 32, liveFrameWidth: 64, liveFrameHeight: 32 });
    const client = await env.connect('tcp');
    const stream = await client.live({ port: env.sim.address?.livePort as number });
    try {
      await client.camera.startLive();
      const full = await stream.nextFrame(10_000);
      expect([full.header.width, full.header.height, full.pixels.length]).toEqual([64, 32, 64 * 32 * 2]);
      const size = await client.camera.setRoi({ width: 16, height: 8 }, { sensorWidth: 64, sensorHeight: 32 });
      expect([size.width, size.height]).toEqual([16, 8]);
      // Frames rendered before the crop may still be on their way: the next 16 × 8 one comes.
      let frame = await stream.nextFrame(10_000);
      for (let i = 0; i < 8 && frame.header.width !== 16; i++) frame = await stream.nextFrame(10_000);
      expect([frame.header.width, frame.header.height, frame.pixels.length]).toEqual([16, 8, 16 * 8 * 2]);
      expect(frame.header.imageIndexStart).toBeGreaterThan(full.header.imageIndexStart);
    } finally {
      await stream.close();
    }
  });

  it('below scale 1 the crop is scaled by liveFrameWidth / imageWidth on each axis (default 256 / 2048)', async () => {
    env = new SimClients('lease');
    const client = await env.connect('tcp');
    await client.camera.setRoi({ width: 1024, height: 512 });
    const frame = await client.camera.snapshot({ livePort: env.sim.address?.livePort as number });
    expect([frame.header.width, frame.header.height]).toEqual([128, 64]);
  });
});

describe('camera.snapshot over TCP: the frame comes on the live port', () => {
  it('resolves with a frame carrying pixels and closes the live stream', async () => {
    env = new SimClients('lease');
    const client = await env.connect('tcp');
    const frame = await client.camera.snapshot({ livePort: env.sim.address?.livePort as number });
    expect(frame.header.width).toBeGreaterThan(0);
    expect(frame.pixels.length).toBe(frame.header.width * frame.header.height * 2);
    expect(env.sim.records.filter((r) => r.code === Command.CAMERA_SNAPSHOT).length).toBe(1);
  });
});
