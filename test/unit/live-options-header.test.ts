import { describe, expect, it } from 'vitest';
import {
  FrameDeframer,
  IMAGE_HEADER_SIZE,
  IMAGE_OPTION_IMAGE_DATA,
  IMAGE_OPTION_MAX_PROJECTION,
  decodeImageHeader,
  encodeImageFrame,
  isOptionsOnly,
} from 'flamingo-protocol';
import type { ImageFrame } from 'flamingo-protocol';
import { bytewise, concat, splitAt, toHex } from '../support/packets.js';

// A header with image size 0 carries display options only (spec/protocol.md §9).
const optionsFields = {
  width: 2048,
  height: 2048,
  scaleMin: 100,
  scaleMax: 4000,
  deviceIndex: 1,
  optionsSettings1: IMAGE_OPTION_MAX_PROJECTION,
  optionsSettings2: 0,
  imageIndexStart: 0,
  imageIndexStop: 0,
};
const optionsBytes = encodeImageFrame(optionsFields, new Uint8Array(0));
const frameFields = (n: number) => ({
  width: 2,
  height: 1,
  scaleMin: 0,
  scaleMax: 9,
  deviceIndex: 1,
  optionsSettings1: IMAGE_OPTION_IMAGE_DATA,
  optionsSettings2: 0,
  imageIndexStart: n,
  imageIndexStop: n,
});
const before = encodeImageFrame(frameFields(1), Uint8Array.of(1, 0, 2, 0));
const after = encodeImageFrame(frameFields(2), Uint8Array.of(3, 0, 4, 0));
const stream = concat([before, optionsBytes, after]);

function feed(chunks: readonly Uint8Array[], deframer: FrameDeframer): ImageFrame[] {
  const out: ImageFrame[] = [];
  for (const c of chunks) out.push(...deframer.push(c));
  return out;
}

/** What a reader must see: frame 1, the options (no pixels), frame 2. */
function expectOrder(out: ImageFrame[], deframer: FrameDeframer): void {
  expect(out.map((f) => [f.header.imageSize, f.header.imageIndexStart, f.pixels.length])).toEqual([
    [4, 1, 4],
    [0, 0, 0],
    [4, 2, 4],
  ]);
  expect(out.map((f) => isOptionsOnly(f))).toEqual([false, true, false]);
  expect(out[1]?.header).toEqual({ imageSize: 0, ...optionsFields });
  expect(out[2]?.pixels).toEqual(Uint8Array.of(3, 0, 4, 0));
  expect([deframer.frames, deframer.optionsHeaders, deframer.failure]).toEqual([2, 1, null]);
}

describe('options-only live-image header (image size 0)', () => {
  it('encodes to exactly 40 bytes with size 0, and decodes back to the same fields', () => {
    expect(optionsBytes.length).toBe(IMAGE_HEADER_SIZE);
    expect(toHex(optionsBytes)).toBe(
      '00000000' + '00080000' + '00080000' + '64000000' + 'a00f0000' + '01000000' + '20000000' + '00000000' + '00000000' + '00000000',
    );
    expect(decodeImageHeader(optionsBytes)).toEqual({ imageSize: 0, ...optionsFields });
  });

  it('between two frames: fed whole, the frames and the options come out in order and nothing fails', () => {
    const deframer = new FrameDeframer();
    expectOrder(feed([stream], deframer), deframer);
  });

  it('fed byte by byte', () => {
    const deframer = new FrameDeframer();
    expectOrder(feed(bytewise(stream), deframer), deframer);
  });

  it('split at every boundary (one cut at each offset)', () => {
    for (let cut = 1; cut < stream.length; cut++) {
      const deframer = new FrameDeframer();
      expectOrder(feed(splitAt(stream, [cut]), deframer), deframer);
    }
  });

  it('split at every pair of cuts around the options header', () => {
    const start = before.length;
    const end = start + optionsBytes.length;
    for (let a = start - 3; a <= end + 3; a++) {
      for (let b = a + 1; b <= end + 3; b++) {
        const deframer = new FrameDeframer();
        expectOrder(feed(splitAt(stream, [a, b]), deframer), deframer);
      }
    }
  });

  it('width and height need not be zero: size 0 is options whatever they say; a nonzero size must still match', () => {
    const deframer = new FrameDeframer();
    expect(deframer.push(optionsBytes).map(isOptionsOnly)).toEqual([true]);
    const wrong = new Uint8Array(IMAGE_HEADER_SIZE);
    new DataView(wrong.buffer).setUint32(0, 2, true); // 2 bytes for a 0 × 0 image
    expect(() => deframer.push(wrong)).toThrow(/image size 2 is not width 0 × height 0 × 2/);
  });
});

describe('legacy header names (deprecated aliases)', () => {
  it('a decoded header reads the old names from the same bytes, as unsigned as before, without them being own fields', () => {
    const header = decodeImageHeader(encodeImageFrame({ ...frameFields(5), imageIndexStart: -1 }, Uint8Array.of(0, 0, 0, 0)));
    expect([header.timestampMs, header.frameNumber, header.exposureUs, header.reserved0, header.reserved1]).toEqual([1, 0x10, 0, 0xffffffff, 5]);
    expect(Object.keys(header)).toEqual([
      'imageSize',
      'width',
      'height',
      'scaleMin',
      'scaleMax',
      'deviceIndex',
      'optionsSettings1',
      'optionsSettings2',
      'imageIndexStart',
      'imageIndexStop',
    ]);
  });

  it('the encoder still takes the old names and writes them to the same offsets', () => {
    const legacy = encodeImageFrame(
      { width: 1, height: 1, scaleMin: 0, scaleMax: 0, timestampMs: 2, frameNumber: 0x10, exposureUs: 0, reserved0: 0xffffffff, reserved1: 3 },
      Uint8Array.of(7, 0),
    );
    expect(legacy).toEqual(
      encodeImageFrame(
        { width: 1, height: 1, scaleMin: 0, scaleMax: 0, deviceIndex: 2, optionsSettings1: 0x10, optionsSettings2: 0, imageIndexStart: -1, imageIndexStop: 3 },
        Uint8Array.of(7, 0),
      ),
    );
  });

  it('a decoded header re-encodes to the same bytes (the relay path)', () => {
    const header = decodeImageHeader(optionsBytes);
    expect(encodeImageFrame(header, new Uint8Array(0))).toEqual(optionsBytes);
  });
});
