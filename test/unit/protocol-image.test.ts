import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameDeframer, FrameError, IMAGE_HEADER_SIZE, decodeImageHeader, encodeImageFrame, framePixels16 } from 'flamingo-protocol';
import type { ImageFrame, ImageHeader } from 'flamingo-protocol';
import { bytewise, concat, splitAt, toHex } from '../support/packets.js';

const u32 = fc.nat({ max: 0xffffffff });
const i32 = fc.integer({ min: -0x80000000, max: 0x7fffffff });

const frameArb = fc
  .record({
    width: fc.integer({ min: 0, max: 12 }),
    height: fc.integer({ min: 0, max: 9 }),
    scaleMin: u32,
    scaleMax: u32,
    deviceIndex: u32,
    optionsSettings1: u32,
    optionsSettings2: u32,
    imageIndexStart: i32,
    imageIndexStop: i32,
  })
  .chain((h) =>
    fc
      .uint8Array({ minLength: h.width * h.height * 2, maxLength: h.width * h.height * 2 })
      .map((pixels) => ({ header: { ...h, imageSize: pixels.length } as ImageHeader, pixels })),
  );

function feed(chunks: readonly Uint8Array[], deframer = new FrameDeframer()): ImageFrame[] {
  const out: ImageFrame[] = [];
  for (const c of chunks) out.push(...deframer.push(c));
  return out;
}

describe('live-image header', () => {
  it('10 little-endian fields in the vendor order; the image index range is signed', () => {
    const fields = {
      width: 2,
      height: 1,
      scaleMin: 3,
      scaleMax: 4,
      deviceIndex: 3,
      optionsSettings1: 0x30,
      optionsSettings2: 7,
      imageIndexStart: -2,
      imageIndexStop: 9,
    };
    const bytes = encodeImageFrame(fields, Uint8Array.of(1, 0, 0xff, 0xff));
    expect(toHex(bytes.subarray(0, IMAGE_HEADER_SIZE))).toBe(
      '04000000' + '02000000' + '01000000' + '03000000' + '04000000' + '03000000' + '30000000' + '07000000' + 'feffffff' + '09000000',
    );
    expect(decodeImageHeader(bytes)).toEqual({ imageSize: 4, ...fields });
  });

  it('fewer than 40 bytes is a FrameError; out-of-range fields are a RangeError', () => {
    expect(() => decodeImageHeader(new Uint8Array(39))).toThrow(FrameError);
    const base = {
      width: 0,
      height: 0,
      scaleMin: 0,
      scaleMax: 0,
      deviceIndex: 0,
      optionsSettings1: 0,
      optionsSettings2: 0,
      imageIndexStart: 0,
      imageIndexStop: 0,
    };
    expect(() => encodeImageFrame({ ...base, optionsSettings1: -1 }, new Uint8Array(0))).toThrow('optionsSettings1 must be a u32, got -1');
    expect(() => encodeImageFrame({ ...base, optionsSettings2: 2 ** 32 }, new Uint8Array(0))).toThrow(RangeError);
    expect(() => encodeImageFrame({ ...base, imageIndexStart: 2 ** 31 }, new Uint8Array(0))).toThrow('imageIndexStart must be an int32, got 2147483648');
    expect(() => encodeImageFrame({ ...base, imageIndexStop: -(2 ** 31) - 1 }, new Uint8Array(0))).toThrow(RangeError);
  });

  it('pixels are 16-bit little-endian', () => {
    const [frame] = feed([
      encodeImageFrame(
        { width: 2, height: 1, scaleMin: 0, scaleMax: 0, deviceIndex: 0, optionsSettings1: 0, optionsSettings2: 0, imageIndexStart: 0, imageIndexStop: 0 },
        Uint8Array.of(0x34, 0x12, 0xff, 0xff),
      ),
    ]);
    expect([...framePixels16(frame as ImageFrame)]).toEqual([0x1234, 0xffff]);
  });
});

describe('FrameDeframer', () => {
  it('frames survive arbitrary chunking, 1-byte chunks and one concatenated chunk', () => {
    fc.assert(
      fc.property(fc.array(frameArb, { minLength: 1, maxLength: 5 }), fc.array(fc.integer({ min: 1, max: 1200 }), { maxLength: 30 }), (frames, cuts) => {
        const stream = concat(frames.map((f) => encodeImageFrame(f.header, f.pixels)));
        for (const chunks of [splitAt(stream, cuts), bytewise(stream), [stream]]) {
          const deframer = new FrameDeframer();
          const out = feed(chunks, deframer);
          expect(out).toEqual(frames);
          // A 0 × 0 header has image size 0: an options-only header, not counted as a picture.
          expect(deframer.frames).toBe(frames.filter((f) => f.pixels.length > 0).length);
          expect(deframer.optionsHeaders).toBe(frames.filter((f) => f.pixels.length === 0).length);
        }
      }),
      { numRuns: 40 },
    );
  });

  it('an impossible header (size not width × height × 2) throws FrameError and keeps failing until reset()', () => {
    const bad = new Uint8Array(IMAGE_HEADER_SIZE);
    new DataView(bad.buffer).setUint32(0, 10, true); // 10 bytes claimed for a 0 × 0 image
    const deframer = new FrameDeframer();
    expect(() => deframer.push(bad)).toThrow(FrameError);
    expect(deframer.failure?.claimedBytes).toBe(10);
    expect(() => deframer.push(new Uint8Array(1))).toThrow(FrameError);
    deframer.reset();
    expect(deframer.failure).toBeNull();
    const good = encodeImageFrame(
      { width: 1, height: 1, scaleMin: 0, scaleMax: 0, deviceIndex: 0, optionsSettings1: 0, optionsSettings2: 0, imageIndexStart: 4, imageIndexStop: 4 },
      Uint8Array.of(1, 2),
    );
    expect(deframer.push(good).map((f) => f.header.imageIndexStart)).toEqual([4]);
  });

  it('a size over the limit is refused before anything is allocated', () => {
    const bytes = new Uint8Array(IMAGE_HEADER_SIZE);
    const view = new DataView(bytes.buffer);
    view.setUint32(0, 0xfffffffe, true);
    view.setUint32(4, 0xffff, true);
    view.setUint32(8, 0xffff, true);
    const deframer = new FrameDeframer({ maxImageBytes: 1024 });
    const before = process.memoryUsage().arrayBuffers;
    expect(() => deframer.push(bytes)).toThrow(/exceeds the limit of 1024/);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(1024 * 1024);
  });

  it('frames completed before a bad header in the same chunk are returned; the error comes with the next push', () => {
    const good = encodeImageFrame(
      { width: 1, height: 1, scaleMin: 0, scaleMax: 0, deviceIndex: 0, optionsSettings1: 0, optionsSettings2: 0, imageIndexStart: 1, imageIndexStop: 1 },
      Uint8Array.of(9, 9),
    );
    const bad = new Uint8Array(IMAGE_HEADER_SIZE).fill(0xff);
    const deframer = new FrameDeframer();
    expect(deframer.push(concat([good, bad])).map((f) => f.header.imageIndexStart)).toEqual([1]);
    expect(deframer.failure).toBeInstanceOf(FrameError);
    expect(() => deframer.push(good)).toThrow(FrameError);
  });

  it('pixels are private copies', () => {
    const stream = Buffer.from(
      encodeImageFrame(
        { width: 1, height: 1, scaleMin: 0, scaleMax: 0, deviceIndex: 0, optionsSettings1: 0, optionsSettings2: 0, imageIndexStart: 0, imageIndexStop: 0 },
        Uint8Array.of(5, 6),
      ),
    );
    const [frame] = new FrameDeframer().push(stream);
    stream.fill(0);
    expect(frame?.pixels).toEqual(Uint8Array.of(5, 6));
  });
});
