import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteSlab, DATA_SIZE, Deframer, HeaderSlab, Offset, PACKET_SIZE, dataText, encodePacket } from 'flamingo-protocol';
import { packetInit } from '../support/packets.js';

describe('ByteSlab (protocol/byte-slab.ts)', () => {
  it('copies exactly the range, into one shared buffer, and a copy never changes afterwards', () => {
    const slab = new ByteSlab(16);
    const source = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9);
    const a = slab.copy(source, 1, 4);
    const b = slab.copy(source, 4, 9);
    expect(Array.from(a)).toEqual([2, 3, 4]);
    expect(Array.from(b)).toEqual([5, 6, 7, 8, 9]);
    expect(a.buffer).toBe(b.buffer);
    expect(a.buffer.byteLength).toBe(16);
    expect([a.byteOffset, b.byteOffset]).toEqual([0, 3]);
    source.fill(0);
    expect(Array.from(a)).toEqual([2, 3, 4]);
    // 8 of 16 bytes used: a 9-byte range starts a new slab, and the old ranges keep their bytes.
    const c = slab.copy(Uint8Array.of(9, 9, 9, 9, 9, 9, 9, 9, 9), 0, 9);
    expect(c.buffer).not.toBe(a.buffer);
    expect(c.byteOffset).toBe(0);
    expect(Array.from(a)).toEqual([2, 3, 4]);
    expect(Array.from(b)).toEqual([5, 6, 7, 8, 9]);
  });

  it('gives a range larger than a slab its own buffer, and refuses to reserve one', () => {
    const slab = new ByteSlab(4);
    const big = slab.copy(Uint8Array.of(1, 2, 3, 4, 5, 6), 0, 6);
    expect(Array.from(big)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(big.buffer.byteLength).toBe(6);
    expect(() => slab.reserve(5)).toThrow(RangeError);
    expect(() => new ByteSlab(0)).toThrow(RangeError);
  });
});

describe('HeaderSlab (protocol/header-slab.ts)', () => {
  it('encodes exactly the bytes of encodePacket, and no header is ever rewritten by later ones', () => {
    const slab = new HeaderSlab(3);
    const kept: Array<[Uint8Array, number[]]> = [];
    fc.assert(
      fc.property(packetInit(false), (init) => {
        const header = slab.encode(init);
        const expected = Array.from(encodePacket(init));
        expect(header.length).toBe(PACKET_SIZE);
        expect(Array.from(header)).toEqual(expected);
        kept.push([header, expected]);
      }),
    );
    expect(kept.length).toBeGreaterThan(3);
    for (const [header, expected] of kept) expect(Array.from(header)).toEqual(expected);
  });

  it('sets the stamp in place: flags OR-ed, addDataBytes and the sequence field', () => {
    const slab = new HeaderSlab();
    const header = slab.encode(
      { code: 0x1234, cmdDataBits0: 0x2, clientId: 7 },
      { flags: 0x80000000, addDataBytes: 99, sequenceOffset: Offset.hardwareId, sequence: 0xfffffffe },
    );
    const view = new DataView(header.buffer, header.byteOffset, PACKET_SIZE);
    expect(view.getUint32(Offset.cmdDataBits0, true)).toBe(0x80000002);
    expect(view.getUint32(Offset.addDataBytes, true)).toBe(99);
    expect(view.getUint32(Offset.hardwareId, true)).toBe(0xfffffffe);
    expect(view.getUint32(Offset.clientId, true)).toBe(7);
    const plain = slab.encode({ code: 1 }, { flags: 0, addDataBytes: 0, sequenceOffset: -1, sequence: 5 });
    expect(Array.from(plain)).toEqual(Array.from(encodePacket({ code: 1 })));
  });

  it('a bad field throws before a byte is written and leaves earlier headers intact', () => {
    const slab = new HeaderSlab(2);
    const first = slab.encode({ code: 5, int32Data0: -3 });
    const before = Array.from(first);
    expect(() => slab.encode({ code: 6, status: -1 })).toThrow(RangeError);
    expect(() => slab.encode({ code: 6, data: 'x'.repeat(DATA_SIZE + 1) })).toThrow(RangeError);
    expect(Array.from(first)).toEqual(before);
    const next = slab.encode({ code: 7 });
    expect(Array.from(next)).toEqual(Array.from(encodePacket({ code: 7 })));
    expect(Array.from(first)).toEqual(before);
  });
});

describe('Deframer data fields from its slab', () => {
  it('keep their bytes when the chunk they came from is overwritten and after many more packets', () => {
    const deframer = new Deframer();
    const chunk = encodePacket({ code: 1, data: 'first' });
    const [first] = deframer.push(chunk);
    chunk.fill(0x41);
    expect(first?.data.length).toBe(DATA_SIZE);
    expect(dataText(first as { data: Uint8Array })).toBe('first');
    // Enough packets to fill several slabs: the first packet's data must still read the same.
    const many = new Uint8Array(PACKET_SIZE * 500);
    for (let i = 0; i < 500; i++) many.set(encodePacket({ code: 2, data: `p${i}` }), i * PACKET_SIZE);
    const packets = deframer.push(many);
    expect(packets).toHaveLength(500);
    expect(packets.map((p) => dataText(p))).toEqual(Array.from({ length: 500 }, (_, i) => `p${i}`));
    expect(dataText(first as { data: Uint8Array })).toBe('first');
  });
});
