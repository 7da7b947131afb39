import { describe, expect, it } from 'vitest';
import { FrameDeframer, FrameFanout, createMemoryPair, encodeImageFrame } from 'flamingo-protocol';
import type { ImageFrame } from 'flamingo-protocol';
import { cleanedUpAfterEach } from '../support/cleanups.js';

const cleanups = cleanedUpAfterEach();

const header = (n: number, scaleMax: number) => ({
  width: 1,
  height: 1,
  scaleMin: 0,
  scaleMax,
  deviceIndex: 0,
  optionsSettings1: 0,
  optionsSettings2: 0,
  imageIndexStart: n,
  imageIndexStop: n,
});
const picture = (n: number) => encodeImageFrame(header(n, 9), Uint8Array.of(n, 0));
// Options-only headers (image size 0) are told apart here by their scaleMax.
const options = (scaleMax: number) => encodeImageFrame(header(0, scaleMax), new Uint8Array(0));

/** A viewer on an in-memory pair; resolves with what it received once `count` items are in. */
function viewerOf(fanout: FrameFanout, count: number) {
  const [near, far] = createMemoryPair();
  cleanups.push(
    () => near.close(),
    () => far.close(),
  );
  const viewer = fanout.add(near);
  near.attach({ data: () => {}, close: () => {} });
  const deframer = new FrameDeframer();
  const got: ImageFrame[] = [];
  const received = new Promise<string[]>((resolve) =>
    far.attach({
      data: (chunk) => {
        got.push(...deframer.push(chunk));
        if (got.length >= count) resolve(got.map((f) => (f.pixels.length === 0 ? `options ${f.header.scaleMax}` : `frame ${f.header.imageIndexStart}`)));
      },
      close: () => {},
    }),
  );
  return { viewer, received };
}

describe('FrameFanout and options-only headers', () => {
  it('an options header neither counts against the queue nor pushes a frame out; a newer one replaces a waiting one', async () => {
    const fanout = new FrameFanout(2);
    const { viewer, received } = viewerOf(fanout, 4);
    // A goes out at once; the rest wait behind it in the order offered.
    for (const item of [options(100), picture(1), options(200), picture(2), picture(3), options(300)]) fanout.offer(item);
    expect([viewer.framesQueued, viewer.framesDropped, viewer.optionsReplaced]).toEqual([2, 1, 1]);
    expect(await received).toEqual(['options 100', 'frame 2', 'frame 3', 'options 300']);
    expect([viewer.framesSent, viewer.optionsSent, viewer.framesQueued]).toEqual([2, 2, 0]);
  });

  it('every viewer gets the options header, even one with no room for frames (maxQueuedFrames 0)', async () => {
    const fanout = new FrameFanout(0);
    const a = viewerOf(fanout, 2);
    const b = viewerOf(fanout, 2);
    for (const item of [picture(1), options(7), picture(2)]) fanout.offer(item);
    expect(await a.received).toEqual(['frame 1', 'options 7']);
    expect(await b.received).toEqual(['frame 1', 'options 7']);
    expect([a.viewer.framesDropped, b.viewer.framesDropped]).toEqual([1, 1]);
  });
});
