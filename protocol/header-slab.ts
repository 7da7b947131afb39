import { ByteSlab } from './byte-slab.js';
import { encodeHeaderAt } from './codec.js';
import { Offset, PACKET_SIZE } from './constants.js';
import type { PacketInit } from './packet.js';

/** Headers per slab by default: 512 × 128 bytes = 64 KiB. */
const DEFAULT_HEADERS_PER_SLAB = 512;

/**
 * Fields a sender owns in a header, set after the checked encode (a request's callback
 * flag, the announced payload length, the sequence). Plain numbers, so that one object can
 * be reused for every header: {@link HeaderSlab.encode} reads it at once.
 */
export interface HeaderStamp {
  /** Bits OR-ed into cmdDataBits0. */
  flags: number;
  /** The addDataBytes written (u32). */
  addDataBytes: number;
  /** Byte offset of the sequence field in the header (`Offset.clientId`, …), or -1 for none. */
  sequenceOffset: number;
  /** The sequence written there (u32). */
  sequence: number;
}

/**
 * Headers encoded into 128-byte ranges of shared slabs (protocol/byte-slab.ts) instead of
 * a new buffer and a new DataView each: the client's request path encodes one per request.
 * Each range is written once, so a header may wait in a transport's queue (corked, or
 * behind a full socket) for as long as it likes.
 */
export class HeaderSlab {
  private readonly slab: ByteSlab;

  constructor(headersPerSlab = DEFAULT_HEADERS_PER_SLAB) {
    if (!Number.isInteger(headersPerSlab) || headersPerSlab < 1) throw new RangeError(`headersPerSlab must be a positive integer, got ${headersPerSlab}`);
    this.slab = new ByteSlab(headersPerSlab * PACKET_SIZE);
  }

  /**
   * Encode `init`'s header (as `encodeHeaderInto` does: every field checked before a byte is
   * written) and return it; `stamp`, when given, is then set in place. A field error throws
   * (the range it had reserved stays unused).
   */
  encode(init: PacketInit, stamp?: HeaderStamp): Uint8Array {
    const slab = this.slab;
    const offset = slab.reserve(PACKET_SIZE);
    const bytes = slab.bytes;
    const view = slab.view;
    // A field error throws here, before any byte is written; the reserved range is then
    // simply left unused (a slab is never written twice, so it cannot be handed out again).
    encodeHeaderAt(init, bytes, view, offset);
    if (stamp !== undefined) {
      const bits = offset + Offset.cmdDataBits0;
      view.setUint32(bits, (view.getUint32(bits, true) | stamp.flags) >>> 0, true);
      view.setUint32(offset + Offset.addDataBytes, stamp.addDataBytes, true);
      if (stamp.sequenceOffset >= 0) view.setUint32(offset + stamp.sequenceOffset, stamp.sequence, true);
    }
    return bytes.subarray(offset, offset + PACKET_SIZE);
  }
}
