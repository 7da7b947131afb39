import { DATA_SIZE, END_MARKER, Offset, PACKET_SIZE, START_MARKER } from './constants.js';
import type { Packet } from './packet.js';

/**
 * Write the header of a packet that was DECODED (every numeric field read from a header, so
 * already in its type's range) at `offset` of `target`, through `view`, a DataView over the
 * same bytes as `target` (`view.byteOffset === target.byteOffset`). `addDataBytes` is
 * written as the packet has it.
 *
 * A relay re-sends decoded packets with a few fields changed (the gateway, src/apps/gateway/).
 * `encodeHeaderInto` checks every field of caller input and builds a DataView per packet;
 * for a packet that was read from the wire neither is needed, and together they were a
 * large part of the gateway's cost per request (issue 14). The bytes are the same as
 * `encodePacket` gives for the same fields (test/unit/header-write.test.ts), from the one
 * offset table (protocol/constants.ts).
 * @throws RangeError when `data` is longer than 72 bytes or the header does not fit.
 */
export function writeDecodedHeader(packet: Packet, target: Uint8Array, view: DataView, offset: number): void {
  const data = packet.data;
  if (data.length > DATA_SIZE) throw new RangeError(`data field holds at most ${DATA_SIZE} bytes, got ${data.length}`);
  if (offset < 0 || target.length - offset < PACKET_SIZE)
    throw new RangeError(`need ${PACKET_SIZE} bytes at offset ${offset} of a ${target.length}-byte target`);
  view.setUint32(offset + Offset.startMarker, START_MARKER, true);
  view.setUint32(offset + Offset.code, packet.code, true);
  view.setUint32(offset + Offset.status, packet.status, true);
  view.setUint32(offset + Offset.hardwareId, packet.hardwareId, true);
  view.setUint32(offset + Offset.subsystemId, packet.subsystemId, true);
  view.setUint32(offset + Offset.clientId, packet.clientId, true);
  view.setInt32(offset + Offset.int32Data0, packet.int32Data0, true);
  view.setInt32(offset + Offset.int32Data1, packet.int32Data1, true);
  view.setInt32(offset + Offset.int32Data2, packet.int32Data2, true);
  view.setUint32(offset + Offset.cmdDataBits0, packet.cmdDataBits0, true);
  view.setFloat64(offset + Offset.value, packet.value, true);
  view.setUint32(offset + Offset.addDataBytes, packet.addDataBytes, true);
  target.set(data, offset + Offset.data);
  if (data.length < DATA_SIZE) target.fill(0, offset + Offset.data + data.length, offset + Offset.endMarker);
  view.setUint32(offset + Offset.endMarker, END_MARKER, true);
}
