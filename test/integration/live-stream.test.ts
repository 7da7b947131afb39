import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import {
  ConnectError,
  FrameDeframer,
  FrameError,
  IMAGE_HEADER_SIZE,
  IMAGE_OPTION_IMAGE_DATA,
  type LiveStream,
  connectTcp,
  encodeImageFrame,
  framePixels16,
  listenTcp,
  openLiveStream,
  type ImageFrame,
  type LiveViewerStats,
} from 'flamingo-protocol';
import { LiveImageServer, PATTERN_BACKGROUND, PATTERN_GRADIENT, PATTERN_NOISE, renderPattern, spotGeometry } from 'flamingo-protocol/sim';
import { nextEvent } from '../support/wait.js';
import { cleanedUpAfterEach } from '../support/cleanups.js';
import { simulatedLiveStartOptions } from '../support/live-view.js';

const cleanups = cleanedUpAfterEach();

function track<T extends { close(): Promise<unknown> }>(thing: T): T {
  cleanups.push(() => thing.close());
  return thing;
}

/** A server plus a connected stream, with the server's side of the viewer known to exist. */
async function serverAndStream(server: LiveImageServer, maxBuffered = 4): Promise<{ stream: LiveStream; viewer: LiveViewerStats }> {
  track(server);
  const { port } = await server.listen({ port: 0 });
  const joined = nextEvent<LiveViewerStats>((deliver) => server.once('viewer', deliver), 'viewer');
  const stream = track(await openLiveStream({ port, maxBuffered }));
  return { stream, viewer: await joined };
}

function brightest(frame: ImageFrame): { col: number; row: number } {
  const px = framePixels16(frame);
  let best = 0;
  for (let i = 1; i < px.length; i++) if (px[i]! > px[best]!) best = i;
  return { col: best % frame.header.width, row: Math.floor(best / frame.header.width) };
}

/** Pixels brighter than any background pixel can be: the spot's area. */
function spotArea(frame: ImageFrame): number {
  const ceiling = PATTERN_BACKGROUND + PATTERN_GRADIENT + PATTERN_NOISE;
  return framePixels16(frame).filter((v) => v > ceiling).length;
}

describe('LiveImageServer → openLiveStream', () => {
  it('delivers frames with the exact size, header fields and pixels', async () => {
    const position = { 1: 4.5, 2: 12, 3: 20 } as Record<number, number>;
    const server = new LiveImageServer({ width: 32, height: 24, deviceIndex: 2, seed: 7, positionOf: (a) => position[a]! });
    const { stream } = await serverAndStream(server);
    expect(server.broadcastFrame()).toBe(1);
    expect(server.broadcastFrame()).toBe(2);
    const first = await stream.nextFrame(5000);
    const second = await stream.nextFrame(5000);
    const expected = renderPattern({ width: 32, height: 24, position: { x: 4.5, y: 12, z: 20 }, frameNumber: 1, seed: 7 });
    expect(first.header).toEqual({
      imageSize: 32 * 24 * 2,
      width: 32,
      height: 24,
      scaleMin: expected.min,
      scaleMax: expected.max,
      deviceIndex: 2,
      optionsSettings1: IMAGE_OPTION_IMAGE_DATA,
      optionsSettings2: 0,
      imageIndexStart: 1,
      imageIndexStop: 1,
    });
    expect(first.pixels).toEqual(expected.pixels);
    const px = framePixels16(first);
    expect(Math.min(...px)).toBe(expected.min);
    expect(Math.max(...px)).toBe(expected.max);
    expect(second.header.imageIndexStart).toBe(2);
    // The noise is seeded per frame: the same position gives a different second picture.
    expect(second.pixels).not.toEqual(first.pixels);
    expect(stream.received).toBe(2);
    expect(stream.dropped).toBe(0);
  });

  it('moves the spot with X/Y and grows it with Z', async () => {
    const position: Record<number, number> = { 1: 1, 2: 5, 3: 8 };
    const server = new LiveImageServer({ width: 64, height: 64, positionOf: (a) => position[a]! });
    const { stream } = await serverAndStream(server);
    const at = async (x: number, y: number, z: number) => {
      Object.assign(position, { 1: x, 2: y, 3: z });
      server.broadcastFrame();
      return stream.nextFrame(5000);
    };
    // 64 px: radius 2..8 px, centre inside an 8 px margin, so travel ends land on pixels 8 and 55.
    expect(spotGeometry({ x: 1, y: 5, z: 8 }, 64, 64)).toEqual({ cx: 8, cy: 8, radius: 2 });
    const topLeft = await at(1, 5, 8);
    expect(brightest(topLeft)).toEqual({ col: 8, row: 8 });
    const right = await at(15, 5, 8);
    expect(brightest(right)).toEqual({ col: 55, row: 8 });
    const bottomRight = await at(15, 25, 8);
    expect(brightest(bottomRight)).toEqual({ col: 55, row: 55 });
    const deep = await at(15, 25, 25);
    expect(brightest(deep)).toEqual({ col: 55, row: 55 });
    const small = spotArea(bottomRight);
    const large = spotArea(deep);
    expect(small).toBeGreaterThan(0);
    // Radius 2 → 8: the area grows about 16-fold; well over 8-fold whatever the rasterising.
    expect(large).toBeGreaterThan(8 * small);
  });

  it('streams on a timer while live view is on, following a simulator-like source', async () => {
    const sim = Object.assign(new EventEmitter(), {
      x: 3,
      stagePosition(axis: number) {
        return axis === 1 ? sim.x : 15;
      },
    });
    const server = new LiveImageServer({ width: 8, height: 8, frameIntervalMs: 2 });
    const detach = server.attachTo(sim);
    const { stream } = await serverAndStream(server);
    expect(server.live).toBe(false);
    const switchedOn = nextEvent<boolean>((deliver) => server.once('live', deliver), 'live');
    sim.emit('liveView', true);
    expect(await switchedOn).toBe(true);
    const numbers: number[] = [];
    for await (const frame of stream) {
      numbers.push(frame.header.imageIndexStart);
      if (numbers.length === 3) break; // break closes the stream
    }
    expect(numbers[0]).toBe(1);
    expect(numbers[1]! > numbers[0]! && numbers[2]! > numbers[1]!).toBe(true);
    // Live view opened with an options-only header: kept as options, not a frame, not the end.
    expect(stream.optionsUpdates).toBe(1);
    expect(stream.options).toEqual(simulatedLiveStartOptions(8, 8));
    expect(stream.isClosed).toBe(true);
    sim.emit('liveView', false);
    expect(server.live).toBe(false);
    detach();
    expect(sim.listenerCount('liveView')).toBe(0);
    sim.emit('liveView', true);
    expect(server.live).toBe(false);
  });

  it('keeps at most maxBuffered frames for a slow consumer, dropping and counting the oldest', async () => {
    // The server may queue all 20 (they are sent in one go); the client is the one that drops.
    const server = new LiveImageServer({ width: 16, height: 16, maxQueuedFrames: 20 });
    const { stream } = await serverAndStream(server, 4);
    const droppedNumbers: number[] = [];
    let mostBuffered = 0;
    stream.on('drop', (f) => droppedNumbers.push(f.header.imageIndexStart));
    const all = new Promise<void>((resolve) =>
      stream.on('frame', () => {
        // 'frame' fires before the new frame is buffered: at most maxBuffered are held then.
        mostBuffered = Math.max(mostBuffered, stream.buffered);
        if (stream.received === 20) resolve();
      }),
    );
    for (let i = 0; i < 20; i++) server.broadcastFrame();
    await all;
    expect(stream.buffered).toBe(4);
    expect(mostBuffered).toBe(4);
    expect(stream.dropped).toBe(16);
    expect(droppedNumbers).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
    const kept: number[] = [];
    for (let i = 0; i < 4; i++) kept.push((await stream.nextFrame(5000)).header.imageIndexStart);
    expect(kept).toEqual([17, 18, 19, 20]);
    expect(stream.buffered).toBe(0);
  });

  it('drops frames for a viewer that stops reading, without holding up the others', async () => {
    const server = track(new LiveImageServer({ width: 256, height: 256, maxQueuedFrames: 2 }));
    const { port } = await server.listen();
    const fastJoined = nextEvent<LiveViewerStats>((deliver) => server.once('viewer', deliver), 'viewer');
    const fast = track(await openLiveStream({ port, maxBuffered: 4 }));
    await fastJoined;
    const slowJoined = nextEvent<LiveViewerStats>((deliver) => server.once('viewer', deliver), 'viewer');
    const slow = await connectTcp({ port });
    cleanups.push(() => slow.close());
    const slowDeframer = new FrameDeframer();
    const slowNumbers: number[] = [];
    let lastSlowFrame: (n: number) => void = () => {};
    slow.attach({
      data: (chunk) => {
        for (const f of slowDeframer.push(chunk)) {
          slowNumbers.push(f.header.imageIndexStart);
          lastSlowFrame(f.header.imageIndexStart);
        }
      },
      close: () => {},
    });
    slow.pause();
    const slowStats = await slowJoined;
    // Each frame is 128 KiB; the paused socket's kernel buffers fill within a few MiB, then
    // the server must start dropping rather than queueing.
    let broadcast = 0;
    while (slowStats.framesDropped < 5 && broadcast < 1000) {
      broadcast = server.broadcastFrame();
      expect((await fast.nextFrame(5000)).header.imageIndexStart).toBe(broadcast);
    }
    expect(slowStats.framesDropped).toBeGreaterThanOrEqual(5);
    expect(slowStats.maxFramesQueued).toBe(2);
    expect(fast.dropped).toBe(0);
    expect(fast.received).toBe(broadcast);
    const fastStats = server.viewers.find((v) => v !== slowStats)!;
    expect(fastStats.framesDropped).toBe(0);
    // The newest frame is never the one dropped: once resumed, the slow viewer gets it, intact.
    const gotLast = new Promise<void>((resolve) => {
      lastSlowFrame = (n) => {
        if (n === broadcast) resolve();
      };
    });
    slow.resume();
    await gotLast;
    expect(slowDeframer.failure).toBeNull();
    expect(slowNumbers.length).toBe(broadcast - slowStats.framesDropped);
    expect(slowNumbers.every((n, i) => i === 0 || n > slowNumbers[i - 1]!)).toBe(true);
    expect(slowStats.framesSent).toBe(slowNumbers.length);
  });

  it('ends the iterator with FrameError after an impossible header, delivering earlier frames first', async () => {
    const good = encodeImageFrame(
      { width: 2, height: 2, scaleMin: 0, scaleMax: 9, deviceIndex: 0, optionsSettings1: 0x10, optionsSettings2: 0, imageIndexStart: 1, imageIndexStop: 1 },
      Uint8Array.of(1, 0, 2, 0, 3, 0, 4, 0),
    );
    // imageSize 100 is not 4 × 4 × 2: no marker to resynchronise on, so the stream is over.
    const bad = encodeImageFrame(
      { width: 4, height: 4, scaleMin: 0, scaleMax: 0, deviceIndex: 0, optionsSettings1: 0x10, optionsSettings2: 0, imageIndexStart: 2, imageIndexStop: 2 },
      new Uint8Array(100),
    );
    const listener = track(await listenTcp({ port: 0 }, (t) => void t.write(Uint8Array.from([...good, ...bad]))));
    const stream = track(await openLiveStream({ port: listener.port }));
    const errors: Error[] = [];
    stream.on('error', (e) => errors.push(e));
    const seen: number[] = [];
    const failure = await (async () => {
      try {
        for await (const frame of stream) seen.push(frame.header.imageIndexStart);
      } catch (error) {
        return error;
      }
      return undefined;
    })();
    expect(seen).toEqual([1]);
    expect(failure).toBeInstanceOf(FrameError);
    expect((failure as FrameError).code).toBe('FRAME');
    expect((failure as FrameError).claimedBytes).toBe(100);
    expect(errors).toEqual([failure]);
    expect(stream.isClosed).toBe(true);
    expect(await stream.next()).toEqual({ value: undefined, done: true });
  });

  it('an options-only header between frames updates options and the stream goes on', async () => {
    const fields = (n: number) => ({
      width: 2,
      height: 1,
      scaleMin: 0,
      scaleMax: 9,
      deviceIndex: 3,
      optionsSettings1: IMAGE_OPTION_IMAGE_DATA,
      optionsSettings2: 0,
      imageIndexStart: n,
      imageIndexStop: n,
    });
    const optionsFields = {
      width: 2,
      height: 1,
      scaleMin: 5,
      scaleMax: 500,
      deviceIndex: 3,
      optionsSettings1: 0,
      optionsSettings2: 1,
      imageIndexStart: 0,
      imageIndexStop: 0,
    };
    const bytes = Uint8Array.from([
      ...encodeImageFrame(fields(1), Uint8Array.of(1, 0, 2, 0)),
      ...encodeImageFrame(optionsFields, new Uint8Array(0)),
      ...encodeImageFrame(fields(2), Uint8Array.of(3, 0, 4, 0)),
    ]);
    // Written in three pieces cut inside the options header, then the server closes.
    const listener = track(
      await listenTcp({ port: 0 }, (t) => {
        void (async () => {
          await t.write(bytes.subarray(0, 50));
          await t.write(bytes.subarray(50, 70));
          await t.write(bytes.subarray(70));
          await t.close();
        })();
      }),
    );
    const stream = track(await openLiveStream({ port: listener.port }));
    const events: string[] = [];
    stream.on('frame', (f) => events.push(`frame ${f.header.imageIndexStart}`));
    stream.on('options', (h) => events.push(`options ${h.scaleMin}..${h.scaleMax}`));
    const seen: number[] = [];
    for await (const frame of stream) seen.push(frame.header.imageIndexStart);
    expect(seen).toEqual([1, 2]);
    expect(events).toEqual(['frame 1', 'options 5..500', 'frame 2']);
    expect(stream.options).toEqual({ imageSize: 0, ...optionsFields });
    expect([stream.received, stream.optionsUpdates, stream.dropped]).toEqual([2, 1, 0]);
  });

  it('refuses a frame over maxImageBytes without allocating it', async () => {
    const header = new Uint8Array(IMAGE_HEADER_SIZE);
    const view = new DataView(header.buffer);
    // 4096 × 4096 × 2 = 32 MiB, consistent but over a 1 MiB limit.
    for (const [i, v] of [32 * 1024 * 1024, 4096, 4096].entries()) view.setUint32(i * 4, v, true);
    const listener = track(await listenTcp({ port: 0 }, (t) => void t.write(header)));
    const stream = track(await openLiveStream({ port: listener.port, maxImageBytes: 1024 * 1024 }));
    const error = await stream.nextFrame(5000).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FrameError);
    expect((error as FrameError).claimedBytes).toBe(32 * 1024 * 1024);
  });

  it('close() ends a pending next() and the server forgets the viewer', async () => {
    const server = new LiveImageServer({ width: 4, height: 4 });
    const { stream, viewer } = await serverAndStream(server);
    const pending = stream.next();
    const gone = nextEvent<LiveViewerStats>((deliver) => server.once('viewerClosed', deliver), 'viewerClosed');
    await stream.close();
    expect(await pending).toEqual({ value: undefined, done: true });
    expect(await gone).toBe(viewer);
    expect(server.viewers).toEqual([]);
  });

  it('server close() ends the viewers’ iteration cleanly', async () => {
    const server = new LiveImageServer({ width: 4, height: 4 });
    const { stream } = await serverAndStream(server);
    const pending = stream.next();
    await server.close();
    expect(await pending).toEqual({ value: undefined, done: true });
    expect(server.live).toBe(false);
  });

  it('nextFrame() times out without losing the frame that comes later', async () => {
    const server = new LiveImageServer({ width: 4, height: 4 });
    const { stream } = await serverAndStream(server);
    const error = await stream.nextFrame(1).catch((e: unknown) => e);
    expect((error as { code?: string }).code).toBe('TIMEOUT');
    server.broadcastFrame();
    expect((await stream.nextFrame(5000)).header.imageIndexStart).toBe(1);
  });

  it('names host:port when nothing listens', async () => {
    const listener = await listenTcp({ port: 0 }, () => {});
    const { port } = listener;
    await listener.close();
    const error = await openLiveStream({ port }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).message).toBe(`cannot connect to 127.0.0.1:${port}: connection refused`);
  });
});
