/**
 * Regression: LiveStream and LiveRelay were plain eventemitter3 emitters, so a 'frame'
 * listener that threw unwound the transport's data callback in the middle of a chunk: the
 * frames after it in that chunk were never delivered (nor relayed to other viewers). The
 * rule (docs/ARCHITECTURE.md, rule 3): the exception is reported ('error' when someone
 * listens), the reader goes on.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryPair, encodeImageFrame, LiveStream } from 'flamingo-protocol';
import { joinBytes } from '../../protocol/bytes.js';

const header = (index: number) => ({
  width: 2,
  height: 1,
  scaleMin: 0,
  scaleMax: 65535,
  deviceIndex: 0,
  optionsSettings1: 1,
  optionsSettings2: 0,
  imageIndexStart: index,
  imageIndexStop: index,
});
const frame = (index: number) => encodeImageFrame(header(index), new Uint8Array([index, 0, index, 0]));

let stream: LiveStream | undefined;
afterEach(async () => {
  await stream?.close();
  stream = undefined;
});

describe('regressions: a throwing live-frame listener', () => {
  it('does not lose the frames after it in the same chunk; the exception comes out as error', async () => {
    const [viewerEnd, serverEnd] = createMemoryPair();
    stream = new LiveStream(viewerEnd, { maxBuffered: 4 });
    const errors: Error[] = [];
    const reported = new Promise<void>((resolve) =>
      stream?.on('error', (error) => {
        errors.push(error);
        if (errors.length === 3) resolve();
      }),
    );
    stream.on('frame', (f) => {
      throw new Error(`listener failed on frame ${f.header.imageIndexStart}`);
    });
    await serverEnd.write(joinBytes([frame(1), frame(2), frame(3)]));
    const got: number[] = [];
    for (let i = 0; i < 3; i++) got.push((await stream.nextFrame(2000)).header.imageIndexStart);
    await reported;
    expect(got).toEqual([1, 2, 3]);
    expect(stream.received).toBe(3);
    expect(errors.map((e) => e.message)).toEqual(['listener failed on frame 1', 'listener failed on frame 2', 'listener failed on frame 3']);
  });
});
