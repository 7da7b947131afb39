/** Default slab size: 8 KiB, as Node's own pool for small buffers. */
const DEFAULT_SLAB_BYTES = 8 * 1024;

/**
 * Small private byte ranges carved out of shared slabs: one ArrayBuffer (and one DataView)
 * per slab instead of one ArrayBuffer per range.
 *
 * Why: every decoded packet owns a copy of its 72-byte data field and every request a
 * 128-byte header. As separate ArrayBuffers these were a measurable share of the per-packet
 * cost (each is a backing store the garbage collector tracks on its own; bench/client.ts).
 *
 * A range is handed out once and never written again by the slab, so a copy never changes
 * after it is made (what "private copy" means for a packet), and a header may wait in a
 * transport's queue as long as it likes. A full slab is dropped for a new one and freed once
 * no range of it is referenced. The price, stated: a range that is kept keeps its whole slab
 * (at most `slabBytes`) alive; memory stays bounded by the ranges referenced.
 */
export class ByteSlab {
  readonly slabBytes: number;
  private current: Uint8Array;
  private currentView: DataView;
  private used = 0;

  constructor(slabBytes = DEFAULT_SLAB_BYTES) {
    if (!Number.isInteger(slabBytes) || slabBytes < 1) throw new RangeError(`slabBytes must be a positive integer, got ${slabBytes}`);
    this.slabBytes = slabBytes;
    this.current = new Uint8Array(slabBytes);
    this.currentView = new DataView(this.current.buffer);
  }

  /** The slab the last {@link reserve} carved from (valid until the next call). */
  get bytes(): Uint8Array {
    return this.current;
  }

  /** A DataView over all of {@link bytes}. */
  get view(): DataView {
    return this.currentView;
  }

  /**
   * Reserve `length` bytes (≤ slabBytes) and return their offset in {@link bytes}; the
   * caller fills them and takes `bytes.subarray(offset, offset + length)`.
   */
  reserve(length: number): number {
    if (length > this.slabBytes) throw new RangeError(`a range of ${length} bytes does not fit a ${this.slabBytes}-byte slab`);
    if (this.slabBytes - this.used < length) {
      this.current = new Uint8Array(this.slabBytes);
      this.currentView = new DataView(this.current.buffer);
      this.used = 0;
    }
    const offset = this.used;
    this.used = offset + length;
    return offset;
  }

  /** A private copy of `source[start, end)`: a slab range, or its own buffer when larger than a slab. */
  copy(source: Uint8Array, start: number, end: number): Uint8Array {
    const length = end - start;
    if (length > this.slabBytes) {
      const own = new Uint8Array(length);
      own.set(source.subarray(start, end));
      return own;
    }
    const offset = this.reserve(length);
    const out = this.current.subarray(offset, offset + length);
    out.set(source.subarray(start, end));
    return out;
  }
}
