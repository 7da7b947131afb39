import { encodeHeaderInto, encodePacket } from '../../../protocol/codec.js';
import { PACKET_SIZE } from '../../../protocol/constants.js';
import type { PacketInit } from '../../../protocol/packet.js';

/** Headers per slab: 64 × 128 bytes = 8 KiB. */
const HEADERS_PER_SLAB = 64;

/**
 * Encodes the headers a session sends back (replies, failure replies) into views of one
 * shared slab instead of a fresh 128-byte array each. A typed array over 64 bytes gets its
 * own off-heap backing store (a malloc, a free and sweeper work in the garbage collector);
 * profiling the gateway (issue 14) showed those per-packet backing stores among its largest
 * costs. A slab is never written twice: its views go to the outbox, which requires the
 * bytes not to change, and a full slab is simply replaced (the old one is freed once its
 * last view has been written and dropped). A packet with a payload gets its own array.
 */
export class ReplySlab {
  private slab = new Uint8Array(HEADERS_PER_SLAB * PACKET_SIZE);
  private used = 0;

  /** The encoded packet (same bytes as encodePacket(init)); throws as encodePacket does. */
  encode(init: PacketInit): Uint8Array {
    if (init.payload !== undefined) return encodePacket(init);
    if (this.used === this.slab.length) {
      this.slab = new Uint8Array(HEADERS_PER_SLAB * PACKET_SIZE);
      this.used = 0;
    }
    const offset = this.used;
    encodeHeaderInto(init, this.slab, offset);
    this.used = offset + PACKET_SIZE;
    return this.slab.subarray(offset, offset + PACKET_SIZE);
  }
}
