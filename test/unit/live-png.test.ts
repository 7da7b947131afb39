import zlib from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PNG_SIGNATURE, autoContrast, crc32, encodeGrayPng, frameToPng, toGray8, type ImageFrame } from 'flamingo-protocol';
import { renderPattern, spotGeometry } from 'flamingo-protocol/sim';

interface Chunk {
  type: string;
  data: Buffer;
}

/** Split a PNG into chunks, checking the signature, every length and every CRC (with zlib's CRC, not ours). */
function readPng(png: Uint8Array): Chunk[] {
  const buf = Buffer.from(png);
  expect([...buf.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const chunks: Chunk[] = [];
  let pos = 8;
  while (pos < buf.length) {
    const length = buf.readUInt32BE(pos);
    const type = buf.toString('latin1', pos + 4, pos + 8);
    const data = buf.subarray(pos + 8, pos + 8 + length);
    expect(buf.readUInt32BE(pos + 8 + length), `CRC of ${type}`).toBe(zlib.crc32(buf.subarray(pos + 4, pos + 8 + length)));
    chunks.push({ type, data });
    pos += 12 + length;
  }
  expect(pos).toBe(buf.length);
  return chunks;
}

function ihdr(chunk: Chunk) {
  return {
    width: chunk.data.readUInt32BE(0),
    height: chunk.data.readUInt32BE(4),
    bitDepth: chunk.data[8],
    colorType: chunk.data[9],
    compression: chunk.data[10],
    filter: chunk.data[11],
    interlace: chunk.data[12],
  };
}

function headerOf(width: number, height: number, imageSize: number): ImageFrame['header'] {
  return {
    imageSize,
    width,
    height,
    scaleMin: 0,
    scaleMax: 0,
    deviceIndex: 0,
    optionsSettings1: 0x10,
    optionsSettings2: 0,
    imageIndexStart: 1,
    imageIndexStop: 1,
    timestampMs: 0,
    frameNumber: 0x10,
    exposureUs: 0,
    reserved0: 1,
    reserved1: 1,
  };
}

function frameOf(width: number, height: number, values: number[]): ImageFrame {
  const pixels = new Uint8Array(values.length * 2);
  values.forEach((v, i) => {
    pixels[2 * i] = v & 0xff;
    pixels[2 * i + 1] = v >>> 8;
  });
  return { header: headerOf(width, height, pixels.length), pixels };
}

describe('crc32', () => {
  it('matches the standard check value and zlib', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ maxLength: 300 }), (a, b) => {
        expect(crc32(a)).toBe(zlib.crc32(a));
        // Continuing from a CRC equals the CRC of the concatenation (how chunk CRCs span type + data).
        expect(crc32(b, crc32(a))).toBe(zlib.crc32(Buffer.concat([a, b])));
      }),
    );
  });
});

describe('8-bit auto-contrast PNG', () => {
  it('writes exact IHDR fields, valid CRCs and the expected scanlines for a known 3 x 2 frame', () => {
    const frame = frameOf(3, 2, [1000, 2000, 3000, 4000, 5000, 1000]);
    const { png, window } = frameToPng(frame);
    expect(window).toEqual({ low: 1000, high: 5000 });
    const chunks = readPng(png);
    expect(chunks.map((c) => c.type)).toEqual(['IHDR', 'IDAT', 'IEND']);
    expect(chunks[0]!.data.length).toBe(13);
    expect(ihdr(chunks[0]!)).toEqual({ width: 3, height: 2, bitDepth: 8, colorType: 0, compression: 0, filter: 0, interlace: 0 });
    // Each scanline: filter byte 0, then (v - 1000) × 255 / 4000 rounded.
    expect([...zlib.inflateSync(chunks[1]!.data)]).toEqual([0, 0, 64, 128, 0, 191, 255, 0]);
    expect(chunks[2]!.data.length).toBe(0);
  });

  it('ignores a hot pixel: the window spans the 0.5–99.5 percentiles', () => {
    const values = Array.from({ length: 200 }, (_, i) => 100 + i);
    values.push(65535);
    expect(autoContrast(Uint16Array.from(values))).toEqual({ low: 101, high: 299 });
    expect(autoContrast(Uint16Array.from(values), { lowPercentile: 0, highPercentile: 100 })).toEqual({ low: 100, high: 65535 });
    const thousand = Uint16Array.from({ length: 1000 }, (_, i) => 999 - i);
    expect(autoContrast(thousand)).toEqual({ low: 4, high: 995 });
    expect(() => autoContrast(thousand, { lowPercentile: 60, highPercentile: 40 })).toThrow(RangeError);
  });

  it('maps a flat picture without dividing by zero', () => {
    expect([...toGray8(Uint16Array.of(7, 7, 8, 6), { low: 7, high: 7 })]).toEqual([0, 0, 255, 0]);
    const { png, window } = frameToPng(frameOf(2, 1, [500, 500]));
    expect(window).toEqual({ low: 500, high: 500 });
    expect([...zlib.inflateSync(readPng(png)[1]!.data)]).toEqual([0, 0, 0]);
  });

  it('shows the simulated spot at full white where the stage puts it', () => {
    const rendered = renderPattern({ width: 64, height: 48, position: { x: 1, y: 25, z: 16 }, frameNumber: 1, seed: 1 });
    const frame: ImageFrame = { header: headerOf(64, 48, rendered.pixels.length), pixels: rendered.pixels };
    const chunks = readPng(frameToPng(frame).png);
    expect(ihdr(chunks[0]!)).toMatchObject({ width: 64, height: 48, bitDepth: 8, colorType: 0 });
    const raw = zlib.inflateSync(chunks[1]!.data);
    expect(raw.length).toBe(48 * 65);
    const { cx, cy } = spotGeometry({ x: 1, y: 25, z: 16 }, 64, 48);
    expect([cx, cy]).toEqual([6, 41]);
    expect(raw[cy * 65 + 1 + cx]).toBe(255);
    for (let row = 0; row < 48; row++) expect(raw[row * 65]).toBe(0);
  });
});

describe('16-bit PNG', () => {
  it('keeps the raw values, big-endian, with bit depth 16', () => {
    const frame = frameOf(2, 2, [0x0102, 0xfffe, 0, 0x8000]);
    const { png, window } = frameToPng(frame, { bitDepth: 16 });
    expect(window).toBeUndefined();
    const chunks = readPng(png);
    expect(ihdr(chunks[0]!)).toEqual({ width: 2, height: 2, bitDepth: 16, colorType: 0, compression: 0, filter: 0, interlace: 0 });
    expect([...zlib.inflateSync(chunks[1]!.data)]).toEqual([0, 0x01, 0x02, 0xff, 0xfe, 0, 0x00, 0x00, 0x80, 0x00]);
  });

  it('refuses samples that do not fill width × height', () => {
    expect(() => encodeGrayPng(2, 2, new Uint8Array(3))).toThrow(RangeError);
    expect(() => encodeGrayPng(0, 2, new Uint8Array(0))).toThrow(RangeError);
    expect(PNG_SIGNATURE.length).toBe(8);
  });
});
