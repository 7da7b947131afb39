import { joinBytes } from '../../protocol/bytes.js';
import { deflateSync } from 'node:zlib';
import { framePixels16, type ImageFrame } from '../../protocol/image.js';

/**
 * Grayscale PNG writer for live-image frames, by hand (node:zlib for deflate, our own
 * CRC-32) so the package needs no image library. See the PNG specification (ISO/IEC
 * 15948): signature, IHDR, IDAT, IEND; each chunk is length, type, data, CRC of type+data.
 */

/** The 8 bytes every PNG file starts with. */
export const PNG_SIGNATURE: Uint8Array = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);
/** PNG colour type of a grayscale image without alpha. */
export const PNG_COLOR_GRAYSCALE = 0;

const CRC_TABLE: Uint32Array = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (ISO 3309, the polynomial PNG and zlib use) of `bytes`, continuing from `crc`. */
export function crc32(bytes: Uint8Array, crc = 0): number {
  let c = (crc ^ 0xffffffff) >>> 0;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Display window of an auto-contrast: values at or below `low` go black, at or above `high` white. */
export interface ContrastWindow {
  low: number;
  high: number;
}

/** Percentiles of {@link autoContrast} (default 0.5 and 99.5: a few hot or dead pixels do not set the scale). */
export interface AutoContrastOptions {
  lowPercentile?: number;
  highPercentile?: number;
}

/**
 * The display window of a 16-bit picture from its histogram: the values at the low and
 * high percentiles (0 and 100 give the minimum and maximum). Exact, one pass plus a scan
 * of the 65 536 histogram bins.
 */
export function autoContrast(pixels: Uint16Array, options: AutoContrastOptions = {}): ContrastWindow {
  const lowPercentile = options.lowPercentile ?? 0.5;
  const highPercentile = options.highPercentile ?? 99.5;
  if (!(lowPercentile >= 0 && lowPercentile <= highPercentile && highPercentile <= 100)) {
    throw new RangeError(`percentiles must satisfy 0 <= low <= high <= 100, got ${lowPercentile} and ${highPercentile}`);
  }
  if (pixels.length === 0) return { low: 0, high: 0 };
  const histogram = new Uint32Array(65536);
  for (let i = 0; i < pixels.length; i++) histogram[pixels[i]!]!++;
  // The value of rank r (0-based, sorted ascending) is the first bin whose running count exceeds r.
  const lowRank = Math.floor(((pixels.length - 1) * lowPercentile) / 100);
  const highRank = Math.ceil(((pixels.length - 1) * highPercentile) / 100);
  let low = -1;
  let high = -1;
  let seen = 0;
  for (let value = 0; value < 65536 && high < 0; value++) {
    seen += histogram[value]!;
    if (low < 0 && seen > lowRank) low = value;
    if (seen > highRank) high = value;
  }
  return { low, high };
}

/**
 * Map 16-bit values to 8-bit through a window: linear between low (0) and high (255),
 * clamped outside. A window with no width (a flat picture) maps values above it to 255
 * and the rest to 0.
 */
export function toGray8(pixels: Uint16Array, window: ContrastWindow): Uint8Array {
  const out = new Uint8Array(pixels.length);
  const { low, high } = window;
  const scale = high > low ? 255 / (high - low) : 0;
  for (let i = 0; i < pixels.length; i++) {
    const v = pixels[i]!;
    out[i] = v <= low ? 0 : v >= high ? 255 : Math.round((v - low) * scale);
  }
  return out;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/**
 * Encode grayscale samples as a PNG. `samples` holds width × height values, row by row:
 * a Uint8Array for bit depth 8 or a Uint16Array for bit depth 16 (written big-endian, as
 * PNG requires). Each scanline uses filter type 0 (none).
 */
export function encodeGrayPng(width: number, height: number, samples: Uint8Array | Uint16Array): Uint8Array {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`PNG size must be positive integers, got ${width} x ${height}`);
  }
  if (samples.length !== width * height) {
    throw new RangeError(`expected ${width * height} samples for ${width} x ${height}, got ${samples.length}`);
  }
  const bitDepth = samples instanceof Uint16Array ? 16 : 8;
  const rowBytes = 1 + (width * bitDepth) / 8;
  const raw = new Uint8Array(rowBytes * height);
  for (let row = 0; row < height; row++) {
    const base = row * rowBytes; // raw[base] stays 0: filter type "none"
    const first = row * width;
    if (bitDepth === 8) raw.set(samples.subarray(first, first + width), base + 1);
    else {
      for (let col = 0; col < width; col++) {
        const v = samples[first + col]!;
        raw[base + 1 + 2 * col] = v >>> 8;
        raw[base + 2 + 2 * col] = v & 0xff;
      }
    }
  }
  const header = new Uint8Array(13);
  const hv = new DataView(header.buffer);
  hv.setUint32(0, width);
  hv.setUint32(4, height);
  header[8] = bitDepth;
  header[9] = PNG_COLOR_GRAYSCALE;
  // header[10..12]: compression 0 (deflate), filter method 0, interlace 0 (none).
  const parts = [PNG_SIGNATURE, chunk('IHDR', header), chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array(0))];
  return joinBytes(parts);
}

/** Options of {@link frameToPng}. */
export interface FrameToPngOptions extends AutoContrastOptions {
  /** 8 (default): auto-contrast to 8-bit for viewing. 16: the raw values, no contrast change. */
  bitDepth?: 8 | 16;
  /** Use this window instead of computing one (8-bit only). */
  window?: ContrastWindow;
}

/** Result of {@link frameToPng}. */
export interface FramePng {
  png: Uint8Array;
  /** The window used for an 8-bit PNG (undefined for 16-bit). */
  window: ContrastWindow | undefined;
}

/** A live-image frame as a grayscale PNG (8-bit auto-contrast by default, or 16-bit raw). */
export function frameToPng(frame: ImageFrame, options: FrameToPngOptions = {}): FramePng {
  const { width, height } = frame.header;
  const pixels = framePixels16(frame);
  if (options.bitDepth === 16) return { png: encodeGrayPng(width, height, pixels), window: undefined };
  const window = options.window ?? autoContrast(pixels, options);
  return { png: encodeGrayPng(width, height, toGray8(pixels, window)), window };
}
