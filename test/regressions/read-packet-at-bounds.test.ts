/**
 * Regression (review of issue 14's byte readers): readPacketAt (public) reads the header
 * byte by byte since issue 14, and a byte past the end reads as undefined, so a header that
 * did not fit came back as a packet of zeros with a short data field (0 or 12 bytes instead
 * of 72), and a negative offset read the start marker as the code. Through a DataView the
 * same call threw. Now it throws FrameError as decodePacket does; a header that fits is read
 * exactly, from a plain array or a Buffer at any byte offset.
 */
import { describe, expect, it } from 'vitest';
import { DATA_SIZE, FrameError, PACKET_SIZE, encodePacket, readPacketAt } from 'flamingo-protocol';

const header = encodePacket({ code: 0x1001, status: 1, clientId: 0xfffffffe, int32Data0: -7, int32Data2: -0x80000000, value: -2.5, data: 'abc' });

describe('regressions: readPacketAt refuses a header that does not fit', () => {
  it.each([
    ['127 bytes', header.subarray(0, 127), 0],
    ['offset 1 of 128 bytes', header, 1],
    ['offset 64 of 128 bytes', header, 64],
    ['offset -4', header, -4],
    ['offset 1.5', new Uint8Array(300), 1.5],
    ['an empty array', new Uint8Array(0), 0],
  ])('%s: FrameError, no packet', (_name, bytes, offset) => {
    expect(() => readPacketAt(bytes, offset)).toThrow(FrameError);
  });

  it('reads a header that fits exactly, from a Buffer at an odd byte offset, with every signed field and a 72-byte data field', () => {
    const pooled = Buffer.alloc(3 + 5 + PACKET_SIZE);
    pooled.set(header, 3 + 5);
    const view = pooled.subarray(3);
    const packet = readPacketAt(view, 5);
    expect([packet.code, packet.status, packet.clientId, packet.int32Data0, packet.int32Data2, packet.value, packet.data.length]).toEqual([
      0x1001,
      1,
      0xfffffffe,
      -7,
      -0x80000000,
      -2.5,
      DATA_SIZE,
    ]);
    expect(Array.from(packet.data.subarray(0, 4))).toEqual([0x61, 0x62, 0x63, 0]);
  });
});
