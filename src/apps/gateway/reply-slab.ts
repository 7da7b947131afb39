import { encodeHeaderInto, encodePacket } from '../../../protocol/codec.js';
import { Offset, PACKET_SIZE } from '../../../protocol/constants.js';
import { Flags } from '../../../protocol/flags.js';
import { writeDecodedHeader } from '../../../protocol/header-write.js';
import type { Packet, PacketInit } from '../../../protocol/packet.js';

/** Headers per slab: 64 × 128 bytes = 8 KiB. */
const HEADERS_PER_SLAB = 64;

function newSlab(): Uint8Array {
  return new Uint8Array(HEADERS_PER_SLAB * PACKET_SIZE);
}

/**
 * Encodes the headers a session sends (replies and failure replies to its app, and the
 * headers of the requests it forwards upstream) into views of one shared slab instead of a
 * fresh 128-byte array each. A typed array over 64 bytes gets its own off-heap backing
 * store (a malloc, a free and sweeper work in the garbage collector); profiling the gateway
 * (issue 14) showed those per-packet backing stores among its largest costs, and so was a
 * DataView per packet: the slab has one. A slab is never written twice: its views go to a
 * transport, which requires the bytes not to change, and a full slab is simply replaced
 * (the old one is freed once its last view has been written and dropped). A packet with a
 * payload gets its own array.
 */
export class ReplySlab {
  private slab = newSlab();
  private view = new DataView(this.slab.buffer, this.slab.byteOffset, this.slab.length);
  private used = 0;

  /** The encoded packet (same bytes as encodePacket(init)); throws as encodePacket does. */
  encode(init: PacketInit): Uint8Array {
    if (init.payload !== undefined) return encodePacket(init);
    const offset = this.slot();
    encodeHeaderInto(init, this.slab, offset);
    return this.take(offset);
  }

  /**
   * An instrument reply (decoded, no payload) as the app's answer: every field as the
   * instrument sent it but the three sequence fields, which are the app's own.
   */
  relay(reply: Packet, hardwareId: number, subsystemId: number, clientId: number): Uint8Array {
    const offset = this.slot();
    const view = this.view;
    writeDecodedHeader(reply, this.slab, view, offset);
    view.setUint32(offset + Offset.hardwareId, hardwareId, true);
    view.setUint32(offset + Offset.subsystemId, subsystemId, true);
    view.setUint32(offset + Offset.clientId, clientId, true);
    return this.take(offset);
  }

  /**
   * The upstream header of an app's request (decoded): what `encodeRequest` gives for its
   * fields (src/correlation/wire.ts): the sequence fields 0 (correlation stamps its own),
   * TRIGGER_CALL_BACK set, addDataBytes the payload's length.
   */
  forward(request: Packet): Uint8Array {
    const offset = this.slot();
    const view = this.view;
    writeDecodedHeader(request, this.slab, view, offset);
    view.setUint32(offset + Offset.hardwareId, 0, true);
    view.setUint32(offset + Offset.subsystemId, 0, true);
    view.setUint32(offset + Offset.clientId, 0, true);
    view.setUint32(offset + Offset.cmdDataBits0, (request.cmdDataBits0 | Flags.TRIGGER_CALL_BACK) >>> 0, true);
    view.setUint32(offset + Offset.addDataBytes, request.payload?.length ?? 0, true);
    return this.take(offset);
  }

  /** Offset of the next free header slot (a fresh slab when this one is full); not yet taken. */
  private slot(): number {
    if (this.used === this.slab.length) {
      this.slab = newSlab();
      this.view = new DataView(this.slab.buffer, this.slab.byteOffset, this.slab.length);
      this.used = 0;
    }
    return this.used;
  }

  /** Take the slot at `offset` (written without an exception): it is never written again. */
  private take(offset: number): Uint8Array {
    this.used = offset + PACKET_SIZE;
    return this.slab.subarray(offset, offset + PACKET_SIZE);
  }
}
