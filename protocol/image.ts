import { FrameError } from './errors.js';

/** Size of the header before each live-image frame: 10 little-endian u32. */
export const IMAGE_HEADER_SIZE = 40;
/** Default ceiling on one frame's pixel bytes (a 4096 x 4096 16-bit frame is 32 MiB). */
export const DEFAULT_MAX_IMAGE_BYTES = 64 * 1024 * 1024;

/** optionsSettings1 bit: the header is followed by image data (vendor source; spec/protocol.md §9). */
export const IMAGE_OPTION_IMAGE_DATA = 0x10;
/** optionsSettings1 bit: the image is a maximum projection (vendor source; spec/protocol.md §9). */
export const IMAGE_OPTION_MAX_PROJECTION = 0x20;

/**
 * The ten fields of a live-image header under the vendor source's names (spec/protocol.md §9).
 * This is what {@link encodeImageFrame} takes; `imageSize` is always taken from the pixels.
 */
export interface ImageHeaderFields {
  /** Bytes of pixel data that follow (width × height × 2); 0 = display options only, no pixels. */
  imageSize?: number;
  width: number;
  height: number;
  /** Display scale minimum (set by the instrument's UI). */
  scaleMin: number;
  /** Display scale maximum. */
  scaleMax: number;
  /** Camera the image comes from (0–3). */
  deviceIndex: number;
  /** Option bit field, e.g. {@link IMAGE_OPTION_IMAGE_DATA}, {@link IMAGE_OPTION_MAX_PROJECTION}. */
  optionsSettings1: number;
  /** Second option bit field (meaning not recorded). */
  optionsSettings2: number;
  /** First image index of the range this image covers (signed 32-bit). */
  imageIndexStart: number;
  /** Last image index of the range (signed 32-bit). */
  imageIndexStop: number;
}

/**
 * The header fields under the names of earlier versions of this library (taken from the
 * public client, which the vendor source contradicts). Still accepted by {@link encodeImageFrame}.
 * @deprecated Use {@link ImageHeaderFields}.
 */
export interface LegacyImageHeaderFields {
  imageSize?: number;
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

/** A decoded 40-byte live-image header. */
export interface ImageHeader extends Required<ImageHeaderFields> {
  /** @deprecated Field 5 is the camera index: use `deviceIndex`. */
  readonly timestampMs: number;
  /** @deprecated Field 6 is an option bit field: use `optionsSettings1`; count frames locally. */
  readonly frameNumber: number;
  /** @deprecated Field 7 is an option bit field: use `optionsSettings2`. */
  readonly exposureUs: number;
  /** @deprecated Use `imageIndexStart` (read here as unsigned, as before). */
  readonly reserved0: number;
  /** @deprecated Use `imageIndexStop` (read here as unsigned, as before). */
  readonly reserved1: number;
}

/** One live-image frame: header and 16-bit little-endian pixels (a private copy). */
export interface ImageFrame {
  header: ImageHeader;
  /** Raw pixel bytes, `header.imageSize` long, 2 bytes per pixel little-endian; empty for an options-only header. */
  pixels: Uint8Array;
}

// The old names stay readable as accessors on the prototype: they are not own properties,
// so spreading, JSON and deep equality see only the ten fields under their current names.
class DecodedImageHeader implements ImageHeader {
  constructor(
    public imageSize: number,
    public width: number,
    public height: number,
    public scaleMin: number,
    public scaleMax: number,
    public deviceIndex: number,
    public optionsSettings1: number,
    public optionsSettings2: number,
    public imageIndexStart: number,
    public imageIndexStop: number,
  ) {}
  get timestampMs(): number {
    return this.deviceIndex;
  }
  get frameNumber(): number {
    return this.optionsSettings1;
  }
  get exposureUs(): number {
    return this.optionsSettings2;
  }
  get reserved0(): number {
    return this.imageIndexStart >>> 0;
  }
  get reserved1(): number {
    return this.imageIndexStop >>> 0;
  }
}

/** True when a header carries display options only: image size 0, no pixels follow (spec/protocol.md §9). */
export function isOptionsOnly(item: ImageHeader | ImageFrame): boolean {
  return ('header' in item ? item.header : item).imageSize === 0;
}

/**
 * Decode a 40-byte live-image header at `offset`. Fields 8 and 9 are signed.
 * @throws FrameError when fewer than 40 bytes are available.
 */
export function decodeImageHeader(bytes: Uint8Array, offset = 0): ImageHeader {
  if (bytes.length - offset < IMAGE_HEADER_SIZE) {
    throw new FrameError(`need ${IMAGE_HEADER_SIZE} bytes for an image header, got ${bytes.length - offset}`, { offset });
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, IMAGE_HEADER_SIZE);
  return new DecodedImageHeader(
    view.getUint32(0, true),
    view.getUint32(4, true),
    view.getUint32(8, true),
    view.getUint32(12, true),
    view.getUint32(16, true),
    view.getUint32(20, true),
    view.getUint32(24, true),
    view.getUint32(28, true),
    view.getInt32(32, true),
    view.getInt32(36, true),
  );
}

/** The ten field values in wire order, from either naming (the current names win when both are there). */
function wireValues(h: ImageHeaderFields | LegacyImageHeaderFields, imageSize: number): [string, number, boolean][] {
  const current = 'deviceIndex' in h;
  const c = h as ImageHeaderFields;
  const l = h as LegacyImageHeaderFields;
  return [
    ['imageSize', imageSize, false],
    ['width', h.width, false],
    ['height', h.height, false],
    ['scaleMin', h.scaleMin, false],
    ['scaleMax', h.scaleMax, false],
    current ? ['deviceIndex', c.deviceIndex, false] : ['timestampMs', l.timestampMs, false],
    current ? ['optionsSettings1', c.optionsSettings1, false] : ['frameNumber', l.frameNumber, false],
    current ? ['optionsSettings2', c.optionsSettings2, false] : ['exposureUs', l.exposureUs, false],
    current ? ['imageIndexStart', c.imageIndexStart, true] : ['reserved0', l.reserved0, false],
    current ? ['imageIndexStop', c.imageIndexStop, true] : ['reserved1', l.reserved1, false],
  ];
}

/**
 * Encode a frame (header followed by its pixels); `imageSize` is taken from the pixels, so
 * empty pixels give an options-only header. Takes the current field names or, deprecated,
 * the legacy ones.
 * @throws RangeError for a field outside its type (u32; int32 for the image index range).
 */
export function encodeImageFrame(header: ImageHeaderFields | LegacyImageHeaderFields, pixels: Uint8Array): Uint8Array {
  const values = wireValues(header, pixels.length);
  for (const [field, v, signed] of values) {
    // Wrapping with `>>> 0` would silently write a different number than the caller gave.
    const [min, max, type] = signed ? [-0x80000000, 0x7fffffff, 'an int32'] : [0, 0xffffffff, 'a u32'];
    if (!Number.isInteger(v) || v < min || v > max) throw new RangeError(`${field} must be ${type}, got ${v}`);
  }
  const out = new Uint8Array(IMAGE_HEADER_SIZE + pixels.length);
  const view = new DataView(out.buffer);
  values.forEach(([, v, signed], i) => (signed ? view.setInt32(i * 4, v, true) : view.setUint32(i * 4, v, true)));
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
 *
 * A header with image size 0 carries display options only (spec/protocol.md §9): push()
 * returns it in its place in the stream as an entry with empty pixels ({@link isOptionsOnly}),
 * whatever its width and height say. It is not a picture and never ends the stream.
 */
export class FrameDeframer {
  readonly maxImageBytes: number;
  /** Pictures emitted so far (options-only headers are not counted). */
  frames = 0;
  /** Options-only headers (image size 0) emitted so far. */
  optionsHeaders = 0;
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
   * Feed the next chunk; returns the frames it completes, in order, options-only headers
   * included (empty pixels).
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
        if (frame.pixels.length === 0) this.optionsHeaders++;
        else this.frames++;
        this.current = null;
      }
    }
    return out;
  }

  /** Why a header is impossible, or null; checked before the pixel buffer is allocated. */
  private check(h: ImageHeader): FrameError | null {
    let problem: string | undefined;
    if (h.imageSize > this.maxImageBytes) problem = `image size ${h.imageSize} exceeds the limit of ${this.maxImageBytes}`;
    // Size 0 is an options-only header: its width and height may describe the camera.
    else if (h.imageSize !== 0 && h.imageSize !== h.width * h.height * 2) {
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
