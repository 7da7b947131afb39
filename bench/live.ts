import { pathToFileURL } from 'node:url';
import { renderPattern } from '../mocks/image-pattern.js';
import { LiveImageServer } from '../mocks/live-image.js';
import { openLiveStream } from '../src/live/live-stream.js';
import { frameToPng } from '../src/live/png.js';

/**
 * Live-image figures: how fast the simulator renders, how quickly one frame crosses
 * loopback, how many frames/s a consuming client gets, and how long a PNG takes.
 * Run: `npm run build && node dist/bench/live.js` (one JSON line), or import runLiveBench.
 */

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

function round(n: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** Run the live-image bench; keys are stable names for the bench JSON line. */
export async function runLiveBench(options: { size?: number; streamMs?: number } = {}): Promise<Record<string, number>> {
  const size = options.size ?? 512;
  const streamMs = options.streamMs ?? 2000;
  const results: Record<string, number> = {};

  const renderTimes: number[] = [];
  for (let i = 1; i <= 30; i++) {
    const t0 = performance.now();
    renderPattern({ width: size, height: size, position: { x: 8, y: 15, z: 16 }, frameNumber: i, seed: 1 });
    renderTimes.push(performance.now() - t0);
  }
  results[`live_render_ms_${size}`] = round(median(renderTimes));

  const server = new LiveImageServer({ width: size, height: size, frameIntervalMs: 1, maxQueuedFrames: 2 });
  try {
    const { port } = await server.listen();
    const joined = new Promise((resolve) => server.once('viewer', resolve));
    const stream = await openLiveStream({ port, maxBuffered: 4 });
    try {
      await joined;
      // One frame at a time: render + send + receive + decode, nothing queued.
      const latencies: number[] = [];
      for (let i = 0; i < 50; i++) {
        const t0 = performance.now();
        server.broadcastFrame();
        await stream.nextFrame(10_000);
        latencies.push(performance.now() - t0);
      }
      results[`live_frame_latency_ms_${size}`] = round(median(latencies));

      // Free running: the server's timer as fast as it goes, the client consuming every frame.
      const before = stream.received;
      const droppedBefore = stream.dropped;
      const serverDroppedBefore = server.viewers[0]?.framesDropped ?? 0;
      const t0 = performance.now();
      server.setLive(true);
      let consumed = 0;
      let last: Awaited<ReturnType<typeof stream.nextFrame>> | undefined;
      while (performance.now() - t0 < streamMs) {
        last = await stream.nextFrame(10_000);
        consumed++;
      }
      server.setLive(false);
      const seconds = (performance.now() - t0) / 1000;
      const received = stream.received - before;
      results[`live_frames_per_s_${size}`] = round(received / seconds, 1);
      results[`live_mib_per_s_${size}`] = round((received * size * size * 2) / seconds / 1024 / 1024, 1);
      results[`live_client_dropped_${size}`] = stream.dropped - droppedBefore;
      results[`live_server_dropped_${size}`] = (server.viewers[0]?.framesDropped ?? 0) - serverDroppedBefore;
      results[`live_consumed_${size}`] = consumed;
      // setLive(true) opens with an options-only header: received as options, never consumed as a frame.
      results[`live_options_headers_${size}`] = stream.optionsUpdates;

      if (last !== undefined) {
        const pngTimes: number[] = [];
        let bytes = 0;
        for (let i = 0; i < 10; i++) {
          const p0 = performance.now();
          bytes = frameToPng(last).png.length;
          pngTimes.push(performance.now() - p0);
        }
        results[`png_encode_ms_${size}`] = round(median(pngTimes));
        results[`png_bytes_${size}`] = bytes;
      }
    } finally {
      await stream.close();
    }
  } finally {
    await server.close();
  }
  return results;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.stdout.write(`${JSON.stringify({ bench: 'live', ...(await runLiveBench()) })}\n`);
}

/** The live-image suite for bench/run.ts: prints its figures as a table, returns them. */
export const liveSuite = {
  name: 'live',
  async run(): Promise<Record<string, number>> {
    const figures = await runLiveBench();
    const width = Math.max(...Object.keys(figures).map((k) => k.length));
    console.log(`${'figure'.padEnd(width)}  value`);
    for (const [key, value] of Object.entries(figures)) console.log(`${key.padEnd(width)}  ${value}`);
    return figures;
  },
};
