import { joinBytes } from '../../protocol/bytes.js';
/**
 * Shared helpers for the codec tests: full-range arbitraries, the packet a PacketInit must
 * decode to, stream builders and chunk splitters, and the header fields in wire order.
 */
import fc from 'fast-check';
import { DATA_SIZE, PACKET_SIZE, encodePacket } from 'flamingo-protocol';
import type { Packet, PacketInit } from 'flamingo-protocol';

const u32 = fc.nat({ max: 0xffffffff });
const i32 = fc.integer({ min: -0x80000000, max: 0x7fffffff });
/** Every f64 bit pattern class: -0, subnormals, infinities; NaN is tested on its own. */
const f64 = fc.double({ noNaN: true });

/** data as bytes (0..72) or as UTF-8 text whose encoding fits 72 bytes. */
const dataField: fc.Arbitrary<Uint8Array | string> = fc.oneof(
  fc.uint8Array({ minLength: 0, maxLength: DATA_SIZE }),
  fc.string({ unit: 'binary', maxLength: 40 }).filter((s) => new TextEncoder().encode(s).length <= DATA_SIZE),
);

const payloadBytes = fc.uint8Array({ minLength: 1, maxLength: 300 });

const headerFieldArbitraries = {
  status: u32,
  hardwareId: u32,
  subsystemId: u32,
  clientId: u32,
  int32Data0: i32,
  int32Data1: i32,
  int32Data2: i32,
  cmdDataBits0: u32,
  value: f64,
  data: dataField,
};

/** A request's `fields`: every header field but the code, each optional and drawn over its full range. */
export const headerFields: fc.Arbitrary<Omit<PacketInit, 'code' | 'payload'>> = fc.record(headerFieldArbitraries, { requiredKeys: [] });

/** A PacketInit with every field drawn over its full range. */
export const packetInit = (withPayload = true): fc.Arbitrary<PacketInit> =>
  fc.record({ code: u32, ...headerFieldArbitraries, ...(withPayload ? { payload: payloadBytes } : {}) }, { requiredKeys: ['code'] });

/** The 72-byte data field `init.data` must decode to. */
function expectedData(data: Uint8Array | string | undefined): Uint8Array {
  const out = new Uint8Array(DATA_SIZE);
  if (data !== undefined) out.set(typeof data === 'string' ? new TextEncoder().encode(data) : data);
  return out;
}

/** The exact packet `init` must decode to. */
export function expectedPacket(init: PacketInit): Packet {
  const packet: Packet = {
    code: init.code ?? 0,
    status: init.status ?? 0,
    hardwareId: init.hardwareId ?? 0,
    subsystemId: init.subsystemId ?? 0,
    clientId: init.clientId ?? 0,
    int32Data0: init.int32Data0 ?? 0,
    int32Data1: init.int32Data1 ?? 0,
    int32Data2: init.int32Data2 ?? 0,
    cmdDataBits0: init.cmdDataBits0 ?? 0,
    value: init.value ?? 0,
    addDataBytes: init.payload !== undefined ? init.payload.length : (init.addDataBytes ?? 0),
    data: expectedData(init.data),
  };
  if (init.payload !== undefined && init.payload.length > 0) packet.payload = Uint8Array.from(init.payload);
  return packet;
}

/** The parts as one stream, for feeding whole, cutting anew, or writing in a single chunk. */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  return joinBytes(parts);
}

/** Cut `bytes` at the given offsets (any order, duplicates and out-of-range ignored). */
export function splitAt(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.filter((c) => c > 0 && c < bytes.length))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const c of points) {
    out.push(bytes.subarray(prev, c));
    prev = c;
  }
  out.push(bytes.subarray(prev));
  return out;
}

/** Every one-byte piece of `bytes`. */
export function bytewise(bytes: Uint8Array): Uint8Array[] {
  return Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1));
}

/** Encode a sequence of packets into one stream. */
export function streamOf(inits: readonly PacketInit[]): Uint8Array {
  return concat(inits.map((i) => encodePacket(i)));
}

/** Bytes taken by a packet on the stream. */
export function wireSize(packet: Pick<Packet, 'addDataBytes'>): number {
  return PACKET_SIZE + packet.addDataBytes;
}

/** Lower-case hex of bytes, and back. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}
export function fromHex(hex: string): Uint8Array {
  const clean = hex.replace(/\s+/g, '');
  if (clean.length % 2 !== 0 || /[^0-9a-f]/i.test(clean)) throw new Error(`bad hex: ${hex.slice(0, 40)}`);
  return Uint8Array.from(Buffer.from(clean, 'hex'));
}

/** Arbitrary garbage: bytes, with a chance of false start markers and marker prefixes inside. */
export const garbage: fc.Arbitrary<Uint8Array> = fc
  .array(
    fc.oneof(
      { weight: 4, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 40 }) },
      { weight: 1, arbitrary: fc.constant(Uint8Array.of(0x54, 0xe6, 0x21, 0xf3)) },
      { weight: 1, arbitrary: fc.integer({ min: 1, max: 3 }).map((n) => Uint8Array.of(0x54, 0xe6, 0x21, 0xf3).subarray(0, n)) },
    ),
    { minLength: 1, maxLength: 6 },
  )
  .map(concat);

/**
 * A packet's header fields in wire order (spec/protocol.md §2, the header table): the keys
 * of a decoded packet, and of a packet's JSON form, in the order they must come.
 */
export const PACKET_FIELDS_IN_WIRE_ORDER = [
  'code',
  'status',
  'hardwareId',
  'subsystemId',
  'clientId',
  'int32Data0',
  'int32Data1',
  'int32Data2',
  'cmdDataBits0',
  'value',
  'addDataBytes',
  'data',
] as const;
