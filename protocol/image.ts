import { FrameError } from './errors.js';

/** Size of the header before each live-image frame: 10 little-endian u32. */
export const IMAGE_HEADER_SIZE = 40;
/** Default ceiling on one frame's pixel bytes (a 4096 x 4096 16-bit frame is 32 MiB). */
export const DEFAULT_MAX_IMAGE_BYTES = 64 * 1024 * 1024;

/** The 40-byte header of a live-image frame. */
export interface ImageHeader {
  /** Bytes of pixel data that follow (width × height × 2). */
  imageSize: number;
  width: number;
  height: number;
  scaleMin: number;
  scaleMax: number;
  timestampMs: number;
  frameNumber: number;
  exposureUs: number;
  reserved0: number;
  reserved1: number;
}

/** One live-image frame: header and 16-bit little-endian pixels (a private copy). */
export interface ImageFrame {
  header: ImageHeader;
  /** Raw pixel bytes, `header.imageSize` long, 2 bytes per pixel little-endian. */
  pixels: Uint8Array;
}

const FIELDS = [
  'imageSize',
  'width',
  'height',
  'scaleMin',
  'scaleMax',
  'timestampMs',
  'frameNumber',
  'exposureUs',
  'reserved0',
  'reserved1',
] as const satisfies readonly (keyof ImageHeader)[];

/**
 * Decode a 40-byte live-image header at `offset`.
 * @throws FrameError when fewer than 40 bytes are available.
 */
export function decodeImageHeader(bytes: Uint8Array, offset = 0): ImageHeader {
  if (bytes.length - offset < IMAGE_HEADER_SIZE) {
    throw new FrameError(`need ${IMAGE_HEADER_SIZE} bytes for an image header, got ${bytes.length - offset}`, { offset });
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, IMAGE_HEADER_SIZE);
  return {
    imageSize: view.getUint32(0, true),
    width: view.getUint32(4, true),
    height: view.getUint32(8, true),
    scaleMin: view.getUint32(12, true),
    scaleMax: view.getUint32(16, true),
    timestampMs: view.getUint32(20, true),
    frameNumber: view.getUint32(24, true),
    exposureUs: view.getUint32(28, true),
    reserved0: view.getUint32(32, true),
    reserved1: view.getUint32(36, true),
  };
}

/** Encode a frame (header followed by its pixels); `imageSize` is taken from the pixels. */
export function encodeImageFrame(header: Omit<ImageHeader, 'imageSize'> & { imageSize?: number }, pixels: Uint8Array): Uint8Array {
  const full: ImageHeader = { ...header, imageSize: pixels.length };
  for (const field of FIELDS) {
    const v = full[field];
    // Wrapping with `>>> 0` would silently write a different number than the caller gave.
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`${field} must be a u32, got ${v}`);
  }
  const out = new Uint8Array(IMAGE_HEADER_SIZE + pixels.length);
  const view = new DataView(out.buffer);
  for (const [i, field] of FIELDS.entries()) view.setUint32(i * 4, full[field], true);
  out.set(pixels, IMAGE_HEADER_SIZE);
  return out;
}

/** Options of {@link FrameDeframer}. */
export interface FrameDeframerOptions {
  /** Largest accepted `imageSize`. Default 64 MiB. */
  maxImageBytes?: number;
}

/**
 * Streaming reader of the live-image port. The stream has no markers, so a header that
 * is impossible (size over the limit, or not width × height × 2) cannot be resynchronised:
 * the deframer fails and refuses further input until reset(). Frames completed earlier in
 * the same chunk are not lost: push() returns them, and the FrameError is thrown by the
 * next push() (and is readable at once as `failure`).
 */
export class FrameDeframer {
  readonly maxImageBytes: number;
  /** Frames emitted so far. */
  frames = 0;
  private header = new Uint8Array(IMAGE_HEADER_SIZE);
  private headerFill = 0;
  private current: ImageFrame | null = null;
  private pixelFill = 0;
  private failed: FrameError | null = null;

  constructor(options: FrameDeframerOptions = {}) {
    this.maxImageBytes = options.maxImageBytes ?? DEFAULT_MAX_IMAGE_BYTES;
  }

  /** Forget partial input and any earlier failure. */
  reset(): void {
    this.headerFill = 0;
    this.current = null;
    this.pixelFill = 0;
    this.failed = null;
  }

  /** The error that stopped this deframer, or null while it is healthy. */
  get failure(): FrameError | null {
    return this.failed;
  }

  /**
   * Feed the next chunk; returns the frames it completes, in order.
   * @throws FrameError for an impossible header when no frame was completed before it in
   * this chunk; otherwise those frames are returned and the next push throws. Every push
   * after a failure throws it again, until reset().
   */
  push(chunk: Uint8Array): ImageFrame[] {
    if (this.failed !== null) throw this.failed;
    const out: ImageFrame[] = [];
    let pos = 0;
    while (pos < chunk.length) {
      if (this.current === null) {
        const n = Math.min(IMAGE_HEADER_SIZE - this.headerFill, chunk.length - pos);
        this.header.set(chunk.subarray(pos, pos + n), this.headerFill);
        this.headerFill += n;
        pos += n;
        if (this.headerFill < IMAGE_HEADER_SIZE) break;
        this.headerFill = 0;
        const header = decodeImageHeader(this.header);
        const problem = this.check(header);
        if (problem !== null) {
          this.failed = problem;
          if (out.length > 0) return out;
          throw problem;
        }
        this.current = { header, pixels: new Uint8Array(header.imageSize) };
        this.pixelFill = 0;
      }
      const frame = this.current;
      const n = Math.min(frame.pixels.length - this.pixelFill, chunk.length - pos);
      frame.pixels.set(chunk.subarray(pos, pos + n), this.pixelFill);
      this.pixelFill += n;
      pos += n;
      if (this.pixelFill === frame.pixels.length) {
        out.push(frame);
        this.frames++;
        this.current = null;
      }
    }
    return out;
  }

  /** Why a header is impossible, or null; checked before the pixel buffer is allocated. */
  private check(h: ImageHeader): FrameError | null {
    let problem: string | undefined;
    if (h.imageSize > this.maxImageBytes) problem = `image size ${h.imageSize} exceeds the limit of ${this.maxImageBytes}`;
    else if (h.imageSize !== h.width * h.height * 2) {
      problem = `image size ${h.imageSize} is not width ${h.width} × height ${h.height} × 2`;
    }
    return problem === undefined ? null : new FrameError(`bad live-image header: ${problem}`, { claimedBytes: h.imageSize });
  }
}

/** The pixels of a frame as 16-bit values (copies; the wire order is little-endian). */
export function framePixels16(frame: ImageFrame): Uint16Array {
  const out = new Uint16Array(frame.pixels.length >>> 1);
  const view = new DataView(frame.pixels.buffer, frame.pixels.byteOffset, frame.pixels.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = view.getUint16(i * 2, true);
  return out;
}
