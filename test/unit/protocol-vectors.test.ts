/**
 * Every case of spec/vectors/ fed whole, byte by byte, and split in two at every
 * boundary (docs/ARCHITECTURE.md, rule 5): the outcome and every counter must not depend on the cuts.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DATA_SIZE, Deframer, FrameError, dataText, decodePacket, decodePacketWithParser, encodePacket } from 'flamingo-protocol';
import type { Packet } from 'flamingo-protocol';
import { bytewise, fromHex, toHex } from '../support/packets.js';

/** A packet as the vector files spell it: the integer fields as decoded, the bytes as hex. */
interface VectorPacket extends Omit<Packet, 'value' | 'data' | 'payload'> {
  value?: number;
  valueBits: string;
  dataHex: string;
  dataText?: string;
  payloadHex?: string;
  payloadText?: string;
}
interface StreamExpect {
  packets: VectorPacket[];
  skippedBytes: number;
  resyncs: number[];
  errors: { claimedBytes: number; offset: number }[];
  bufferedBytes: number;
}
interface PacketsFile {
  packets: { name: string; description: string; hex: string; packet: VectorPacket }[];
  invalid: { name: string; description: string; hex: string; error: string }[];
}
interface StreamsFile {
  defaultMaxPayloadBytes: number;
  streams: { name: string; description: string; hex: string; maxPayloadBytes?: number; expect: StreamExpect }[];
}

const load = <T>(file: string): T => JSON.parse(readFileSync(fileURLToPath(new URL(`../../spec/vectors/${file}`, import.meta.url)), 'utf8')) as T;
const packetsFile = load<PacketsFile>('packets.json');
const streamsFile = load<StreamsFile>('streams.json');

function valueBits(value: number): string {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, value);
  return toHex(new Uint8Array(view.buffer));
}
const isNaNBits = (hex: string) => Number.isNaN(new DataView(fromHex(hex).buffer).getFloat64(0));

/** Check a decoded packet against a vector's expectation, field by field. */
function expectPacket(actual: Packet | undefined, want: VectorPacket, label: string): void {
  expect(actual, label).toBeDefined();
  const p = actual as Packet;
  const { value, valueBits: bits, dataHex, dataText: text, payloadHex, payloadText, ...ints } = want;
  expect(
    {
      code: p.code,
      status: p.status,
      hardwareId: p.hardwareId,
      subsystemId: p.subsystemId,
      clientId: p.clientId,
      int32Data0: p.int32Data0,
      int32Data1: p.int32Data1,
      int32Data2: p.int32Data2,
      cmdDataBits0: p.cmdDataBits0,
      addDataBytes: p.addDataBytes,
    },
    label,
  ).toEqual(ints);
  if (isNaNBits(bits)) expect(Number.isNaN(p.value), label).toBe(true);
  else expect(valueBits(p.value), label).toBe(bits);
  if (value !== undefined) expect(p.value, label).toBe(value);
  expect(toHex(p.data), label).toBe(dataHex);
  if (text !== undefined) expect(dataText(p), label).toBe(text);
  expect(p.payload === undefined ? undefined : toHex(p.payload), label).toBe(payloadHex);
  if (payloadText !== undefined) expect(new TextDecoder().decode(p.payload), label).toBe(payloadText);
}

/** The ways every vector is cut: whole, byte by byte, and two pieces at every boundary. */
function cuttings(bytes: Uint8Array): [string, Uint8Array[]][] {
  const out: [string, Uint8Array[]][] = [
    ['whole', [bytes]],
    ['byte by byte', bytewise(bytes)],
  ];
  for (let i = 1; i < bytes.length; i++) out.push([`split at ${i}`, [bytes.subarray(0, i), bytes.subarray(i)]]);
  return out;
}

function deframe(chunks: Uint8Array[], maxPayloadBytes: number) {
  const errors: FrameError[] = [];
  const resyncs: number[] = [];
  const d = new Deframer({ maxPayloadBytes, onError: (e) => errors.push(e), onResync: (r) => resyncs.push(r.skippedBytes) });
  const packets: Packet[] = [];
  for (const c of chunks) packets.push(...d.push(c));
  return { packets, errors, resyncs, d };
}

describe('spec/vectors/packets.json', () => {
  it('holds vectors', () => {
    expect(packetsFile.packets.length).toBeGreaterThanOrEqual(20);
    expect(packetsFile.invalid.length).toBeGreaterThanOrEqual(3);
  });

  for (const v of packetsFile.packets) {
    it(`${v.name}: ${v.description}`, () => {
      const bytes = fromHex(v.hex);
      expect(bytes.length).toBe(128 + v.packet.addDataBytes);
      expectPacket(decodePacket(bytes), { ...v.packet, payloadHex: undefined, payloadText: undefined } as VectorPacket, 'decodePacket');
      expectPacket(decodePacketWithParser(bytes), { ...v.packet, payloadHex: undefined, payloadText: undefined } as VectorPacket, 'decodePacketWithParser');
      for (const [label, chunks] of cuttings(bytes)) {
        const run = deframe(chunks, streamsFile.defaultMaxPayloadBytes);
        expect(run.packets.length, label).toBe(1);
        expectPacket(run.packets[0], v.packet, label);
        expect([run.d.skippedBytes, run.d.bufferedBytes, run.errors.length], label).toEqual([0, 0, 0]);
      }
      // Encoding the fields gives the same bytes (a NaN's payload bits are not promised).
      const p = v.packet;
      const reencoded = encodePacket({
        ...p,
        value: decodePacket(bytes).value,
        data: fromHex(p.dataHex),
        ...(p.payloadHex !== undefined ? { payload: fromHex(p.payloadHex) } : {}),
      });
      if (!isNaNBits(p.valueBits)) expect(toHex(reencoded)).toBe(v.hex);
      expect(fromHex(p.dataHex).length).toBe(DATA_SIZE);
    });
  }

  for (const v of packetsFile.invalid) {
    it(`invalid ${v.name}: ${v.description}`, () => {
      const bytes = fromHex(v.hex);
      for (const decode of [decodePacket, decodePacketWithParser]) {
        expect(() => decode(bytes)).toThrow(FrameError);
      }
      // A deframer never emits it: it is skipped (or buffered while it could still be a start).
      for (const [label, chunks] of cuttings(bytes)) {
        const run = deframe(chunks, streamsFile.defaultMaxPayloadBytes);
        expect(run.packets, label).toEqual([]);
        expect(run.d.skippedBytes + run.d.bufferedBytes, label).toBe(bytes.length);
      }
    });
  }
});

describe('spec/vectors/streams.json', () => {
  it('holds vectors', () => {
    expect(streamsFile.streams.length).toBeGreaterThanOrEqual(15);
  });

  for (const v of streamsFile.streams) {
    it(`${v.name}: ${v.description}`, () => {
      const bytes = fromHex(v.hex);
      const limit = v.maxPayloadBytes ?? streamsFile.defaultMaxPayloadBytes;
      for (const [label, chunks] of cuttings(bytes)) {
        const run = deframe(chunks, limit);
        expect(run.packets.length, label).toBe(v.expect.packets.length);
        for (const [i, want] of v.expect.packets.entries()) expectPacket(run.packets[i], want, `${label}, packet ${i}`);
        expect(
          {
            skippedBytes: run.d.skippedBytes,
            resyncs: run.resyncs,
            errors: run.errors.map((e) => ({ claimedBytes: e.claimedBytes, offset: e.offset })),
            bufferedBytes: run.d.bufferedBytes,
          },
          label,
        ).toEqual({ skippedBytes: v.expect.skippedBytes, resyncs: v.expect.resyncs, errors: v.expect.errors, bufferedBytes: v.expect.bufferedBytes });
      }
    });
  }
});
