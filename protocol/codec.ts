import { Parser } from 'binary-parser';
import type { ByteSlab } from './byte-slab.js';
import { DATA_SIZE, END_MARKER, Offset, PACKET_SIZE, START_MARKER } from './constants.js';
import { FrameError, PacketFieldError } from './errors.js';
import type { Packet, PacketInit } from './packet.js';
import { WirePacket } from './wire-packet.js';

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: false });
const EMPTY = new Uint8Array(0);

/**
 * The declarative layout, compiled once by binary-parser. It is the readable statement of
 * the format and the reference the hand-written reader below is tested against.
 */
const headerParser = new Parser()
  .endianness('little')
  .uint32('startMarker')
  .uint32('code')
  .uint32('status')
  .uint32('hardwareId')
  .uint32('subsystemId')
  .uint32('clientId')
  .int32('int32Data0')
  .int32('int32Data1')
  .int32('int32Data2')
  .uint32('cmdDataBits0')
  .doublele('value')
  .uint32('addDataBytes')
  // No `clone`: binary-parser clones with `buffer.constructor.from`, which for a Node
  // Buffer lands in the shared 8 KiB pool. The data field is copied below instead.
  .buffer('data', { length: DATA_SIZE })
  .uint32('endMarker');

function checkLength(bytes: Uint8Array, offset: number): void {
  // Byte reads past either end give undefined, not an exception: without this a header that
  // does not fit would decode as zeros with a short data field.
  if (!Number.isInteger(offset) || offset < 0) throw new FrameError(`a packet header cannot start at offset ${offset}`);
  if (bytes.length - offset < PACKET_SIZE) {
    throw new FrameError(`need ${PACKET_SIZE} bytes for a packet header, got ${bytes.length - offset}`, { offset });
  }
}

function markerError(start: number, end: number, offset: number): FrameError {
  return new FrameError(`bad packet markers: start 0x${start.toString(16).padStart(8, '0')}, end 0x${end.toString(16).padStart(8, '0')}`, { offset });
}

/**
 * Decode one 128-byte header with the compiled binary-parser layout. Kept as the
 * declarative reference; {@link decodePacket} uses the faster {@link readPacketAt}.
 * @throws FrameError on a short buffer or a bad marker.
 */
export function decodePacketWithParser(bytes: Uint8Array): Packet {
  checkLength(bytes, 0);
  const view = bytes.length === PACKET_SIZE ? bytes : bytes.subarray(0, PACKET_SIZE);
  const h = headerParser.parse(view);
  if (h.startMarker !== START_MARKER || h.endMarker !== END_MARKER) throw markerError(h.startMarker, h.endMarker, 0);
  return {
    code: h.code,
    status: h.status,
    hardwareId: h.hardwareId,
    subsystemId: h.subsystemId,
    clientId: h.clientId,
    int32Data0: h.int32Data0,
    int32Data1: h.int32Data1,
    int32Data2: h.int32Data2,
    cmdDataBits0: h.cmdDataBits0,
    value: h.value,
    addDataBytes: h.addDataBytes,
    data: copyBytes(h.data, 0, DATA_SIZE),
  };
}

/**
 * A private copy of `bytes[start, end)` as a plain Uint8Array. Not `bytes.slice()`: on a
 * Node Buffer (what sockets deliver) `slice` returns a VIEW, so a packet would keep the
 * whole chunk alive and change if the chunk's memory were reused.
 */
export function copyBytes(bytes: Uint8Array, start: number, end: number): Uint8Array {
  // A plain Uint8Array's slice() is one native allocate-and-copy (profiled: several times
  // faster than a JS loop for the 72-byte data field). A subclass such as Buffer must not
  // be sliced (its slice is a view), so it is copied into a new plain array.
  if (bytes.constructor === Uint8Array) return bytes.slice(start, end);
  const out = new Uint8Array(end - start);
  out.set(bytes.subarray(start, end));
  return out;
}

/** Little-endian u32 at `at` of `bytes`, from single bytes: no DataView per chunk (a native call each, and an object). */
export function u32At(bytes: Uint8Array, at: number): number {
  return ((bytes[at] as number) | ((bytes[at + 1] as number) << 8) | ((bytes[at + 2] as number) << 16) | ((bytes[at + 3] as number) << 24)) >>> 0;
}

/** Eight bytes copied here are read as a little-endian float64 on any platform. */
const valueBytes = new Uint8Array(8);
const valueView = new DataView(valueBytes.buffer);

function f64At(bytes: Uint8Array, at: number): number {
  for (let i = 0; i < 8; i++) valueBytes[i] = bytes[at + i] as number;
  return valueView.getFloat64(0, true);
}

/** True when both markers of the header at `offset` of `bytes` are right (at least 128 bytes from `offset`). */
export function hasMarkersAt(bytes: Uint8Array, offset: number): boolean {
  return u32At(bytes, offset + Offset.startMarker) === START_MARKER && u32At(bytes, offset + Offset.endMarker) === END_MARKER;
}

/** The addDataBytes field of the header at `offset` of `bytes`. */
export function payloadLengthAt(bytes: Uint8Array, offset: number): number {
  return u32At(bytes, offset + Offset.addDataBytes);
}

/**
 * Read the header at `offset` of `bytes` (FrameError when 128 bytes do not fit there). No
 * marker check (the caller has done it); the data field is copied, so the packet keeps
 * nothing of the source alive: into its own buffer, or into a range of `slab` when one is
 * given (the deframer's: protocol/byte-slab.ts). This is the hot path of the deframer: the
 * fields are read byte by byte, because a DataView over each chunk (a new buffer per
 * socket read) cost more than the reads themselves (issue 14).
 */
export function readPacketAt(bytes: Uint8Array, offset: number, slab?: ByteSlab): Packet {
  checkLength(bytes, offset);
  const dataStart = offset + Offset.data;
  return new WirePacket(
    u32At(bytes, offset + Offset.code),
    u32At(bytes, offset + Offset.status),
    u32At(bytes, offset + Offset.hardwareId),
    u32At(bytes, offset + Offset.subsystemId),
    u32At(bytes, offset + Offset.clientId),
    u32At(bytes, offset + Offset.int32Data0) | 0,
    u32At(bytes, offset + Offset.int32Data1) | 0,
    u32At(bytes, offset + Offset.int32Data2) | 0,
    u32At(bytes, offset + Offset.cmdDataBits0),
    f64At(bytes, offset + Offset.value),
    u32At(bytes, offset + Offset.addDataBytes),
    slab !== undefined ? slab.copy(bytes, dataStart, dataStart + DATA_SIZE) : copyBytes(bytes, dataStart, dataStart + DATA_SIZE),
  );
}

/**
 * Decode exactly one 128-byte header (bytes past 128 are ignored; a payload is the
 * deframer's business). The result's `data` is a private copy.
 * @throws FrameError when fewer than 128 bytes are given or a marker is wrong.
 */
export function decodePacket(bytes: Uint8Array): Packet {
  checkLength(bytes, 0);
  if (!hasMarkersAt(bytes, 0)) throw markerError(u32At(bytes, Offset.startMarker), u32At(bytes, Offset.endMarker), 0);
  return readPacketAt(bytes, 0);
}

/** Encode `data` (bytes or UTF-8 text) into the 72-byte field. */
function dataBytes(data: Uint8Array | string | undefined): Uint8Array {
  if (data === undefined) return EMPTY;
  if (typeof data !== 'string' && !(data instanceof Uint8Array)) {
    throw new PacketFieldError(`data must be text or a Uint8Array, got ${describeType(data)}`);
  }
  const bytes = typeof data === 'string' ? utf8.encode(data) : data;
  if (bytes.length > DATA_SIZE) {
    throw new RangeError(`data field holds at most ${DATA_SIZE} bytes, got ${bytes.length}`);
  }
  return bytes;
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`;
}

function u32(name: string, v: number | undefined): number {
  if (v === undefined) return 0;
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`${name} must be a u32, got ${v}`);
  return v;
}

function f64(name: string, v: number | undefined): number {
  if (v === undefined) return 0;
  // Any number is representable (NaN included); only a non-number is refused, instead of
  // being silently coerced by DataView.
  if (typeof v !== 'number') throw new RangeError(`${name} must be a number, got ${typeof v}`);
  return v;
}

function i32(name: string, v: number | undefined): number {
  if (v === undefined) return 0;
  if (!Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) throw new RangeError(`${name} must be an i32, got ${v}`);
  return v;
}

/**
 * Write the 128-byte header for `init` into `target` at `offset`. `addDataBytes` is the
 * payload's length when a payload is given. Every field is range-checked (RangeError)
 * BEFORE anything is written, so a bad field never leaves a half-written header behind.
 */
export function encodeHeaderInto(init: PacketInit, target: Uint8Array, offset = 0): void {
  encodeHeaderAt(init, target, new DataView(target.buffer, target.byteOffset, target.byteLength), offset);
}

/**
 * {@link encodeHeaderInto} through a DataView the caller already holds over all of `target`
 * (a slab's one view, see protocol/header-slab.ts: no view is made per header).
 */
export function encodeHeaderAt(init: PacketInit, target: Uint8Array, view: DataView, offset: number): void {
  if (init.payload !== undefined && !(init.payload instanceof Uint8Array)) {
    throw new PacketFieldError(`payload must be a Uint8Array, got ${describeType(init.payload)}`);
  }
  const data = dataBytes(init.data);
  const addDataBytes = init.payload !== undefined ? init.payload.length : u32('addDataBytes', init.addDataBytes);
  const code = u32('code', init.code);
  const status = u32('status', init.status);
  const hardwareId = u32('hardwareId', init.hardwareId);
  const subsystemId = u32('subsystemId', init.subsystemId);
  const clientId = u32('clientId', init.clientId);
  const int32Data0 = i32('int32Data0', init.int32Data0);
  const int32Data1 = i32('int32Data1', init.int32Data1);
  const int32Data2 = i32('int32Data2', init.int32Data2);
  const cmdDataBits0 = u32('cmdDataBits0', init.cmdDataBits0);
  const value = f64('value', init.value);
  if (addDataBytes > 0xffffffff) throw new RangeError(`payload of ${addDataBytes} bytes does not fit addDataBytes (u32)`);
  if (!Number.isInteger(offset) || offset < 0 || target.length - offset < PACKET_SIZE) {
    throw new RangeError(`need ${PACKET_SIZE} bytes at offset ${offset} of a ${target.length}-byte target`);
  }
  view.setUint32(offset + Offset.startMarker, START_MARKER, true);
  view.setUint32(offset + Offset.code, code, true);
  view.setUint32(offset + Offset.status, status, true);
  view.setUint32(offset + Offset.hardwareId, hardwareId, true);
  view.setUint32(offset + Offset.subsystemId, subsystemId, true);
  view.setUint32(offset + Offset.clientId, clientId, true);
  view.setInt32(offset + Offset.int32Data0, int32Data0, true);
  view.setInt32(offset + Offset.int32Data1, int32Data1, true);
  view.setInt32(offset + Offset.int32Data2, int32Data2, true);
  view.setUint32(offset + Offset.cmdDataBits0, cmdDataBits0, true);
  view.setFloat64(offset + Offset.value, value, true);
  view.setUint32(offset + Offset.addDataBytes, addDataBytes, true);
  if (data.length > 0) target.set(data, offset + Offset.data);
  target.fill(0, offset + Offset.data + data.length, offset + Offset.endMarker);
  view.setUint32(offset + Offset.endMarker, END_MARKER, true);
}

/**
 * Encode a packet: 128 bytes, followed by `init.payload` when one is given (its length
 * goes into addDataBytes). Throws RangeError for a field out of its type's range or data
 * longer than 72 bytes.
 */
export function encodePacket(init: PacketInit): Uint8Array {
  const payloadLength = init.payload?.length ?? 0;
  const out = new Uint8Array(PACKET_SIZE + payloadLength);
  encodeHeaderInto(init, out, 0);
  if (init.payload !== undefined && payloadLength > 0) out.set(init.payload, PACKET_SIZE);
  return out;
}

/** The data field as text: UTF-8 up to the first NUL. */
export function dataText(packet: Pick<Packet, 'data'>): string {
  const d = packet.data;
  let end = d.indexOf(0);
  if (end < 0) end = d.length;
  return utf8Decoder.decode(d.subarray(0, end));
}

/** The payload as UTF-8 text ('' when there is none). */
export function payloadText(packet: Pick<Packet, 'payload'>): string {
  return packet.payload === undefined ? '' : utf8Decoder.decode(packet.payload);
}
