import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DATA_SIZE,
  END_MARKER,
  FrameError,
  Offset,
  PACKET_SIZE,
  START_MARKER,
  dataText,
  decodePacket,
  decodePacketWithParser,
  encodeHeaderInto,
  encodePacket,
  payloadText,
} from 'flamingo-protocol';
import type { PacketInit } from 'flamingo-protocol';
import { expectedPacket, fromHex, packetInit, toHex } from '../support/packets.js';

/** Header only: decodePacket never looks at a payload. */
function header(init: PacketInit) {
  const { payload: _payload, ...rest } = expectedPacket(init);
  return rest;
}

describe('encodePacket / decodePacket round trip', () => {
  it('every field over its full range, data 0..72 bytes or UTF-8 text, with payloads', () => {
    fc.assert(
      fc.property(packetInit(), (init) => {
        const bytes = encodePacket(init);
        expect(bytes.length).toBe(PACKET_SIZE + (init.payload?.length ?? 0));
        const decoded = decodePacket(bytes);
        expect(decoded).toEqual(header(init));
        // -0 and +0 are different f64 bit patterns; toEqual already uses Object.is, say it anyway.
        expect(Object.is(decoded.value, init.value ?? 0)).toBe(true);
        expect(bytes.subarray(PACKET_SIZE)).toEqual(init.payload ?? new Uint8Array(0));
      }),
    );
  });

  it('the field bounds themselves', () => {
    const extremes: PacketInit[] = [
      {
        code: 0,
        status: 0,
        hardwareId: 0,
        subsystemId: 0,
        clientId: 0,
        int32Data0: -0x80000000,
        int32Data1: -0x80000000,
        int32Data2: -0x80000000,
        cmdDataBits0: 0,
        value: -0,
      },
      {
        code: 0xffffffff,
        status: 0xffffffff,
        hardwareId: 0xffffffff,
        subsystemId: 0xffffffff,
        clientId: 0xffffffff,
        int32Data0: 0x7fffffff,
        int32Data1: 0x7fffffff,
        int32Data2: 0x7fffffff,
        cmdDataBits0: 0xffffffff,
        value: Number.MAX_VALUE,
      },
      { value: Number.MIN_VALUE }, // smallest subnormal
      { value: -2.2250738585072009e-308 }, // largest negative subnormal
      { value: Infinity },
      { value: -Infinity },
      { addDataBytes: 0xffffffff }, // a header may claim anything; the deframer polices it
    ];
    for (const init of extremes) expect(decodePacket(encodePacket(init))).toEqual(header(init));
  });

  it('writes the documented layout: little-endian, markers at 0 and 124', () => {
    const bytes = encodePacket({ code: 0x6008, status: 1, int32Data0: -2, cmdDataBits0: 0x80000000, value: 1.5, data: 'ab' });
    const view = new DataView(bytes.buffer);
    expect(view.getUint32(Offset.startMarker, true)).toBe(START_MARKER);
    expect(view.getUint32(Offset.endMarker, true)).toBe(END_MARKER);
    expect(toHex(bytes.subarray(0, 8))).toBe('54e621f308600000');
    expect(toHex(bytes.subarray(24, 28))).toBe('feffffff');
    expect(toHex(bytes.subarray(36, 48))).toBe('00000080000000000000f83f');
    expect(toHex(bytes.subarray(52, 56))).toBe('61620000');
    expect(toHex(bytes.subarray(124))).toBe('2143dcfe');
  });

  it('data: 72 bytes fit, 73 are refused, text is UTF-8 up to the first NUL', () => {
    const full = new Uint8Array(DATA_SIZE).fill(0x41);
    expect(decodePacket(encodePacket({ data: full })).data).toEqual(full);
    expect(() => encodePacket({ data: new Uint8Array(DATA_SIZE + 1) })).toThrow(RangeError);
    expect(() => encodePacket({ data: 'é'.repeat(37) })).toThrow(RangeError); // 74 UTF-8 bytes
    expect(dataText(decodePacket(encodePacket({ data: 'é'.repeat(36) })))).toBe('é'.repeat(36));
    expect(dataText(decodePacket(encodePacket({ data: '5.00' })))).toBe('5.00');
    expect(dataText(decodePacket(encodePacket({ data: Uint8Array.of(0x68, 0x69, 0, 0x7a) })))).toBe('hi');
    expect(dataText(decodePacket(encodePacket({})))).toBe('');
  });

  it('data text of any length 0..72 UTF-8 bytes survives the round trip', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 30 }), (text) => {
        const clean = text.replace(/\0/g, '');
        const encodedLength = new TextEncoder().encode(clean).length;
        if (encodedLength > DATA_SIZE) {
          expect(() => encodePacket({ data: clean })).toThrow(RangeError);
        } else {
          expect(dataText(decodePacket(encodePacket({ data: clean })))).toBe(clean);
        }
      }),
    );
  });

  it('the payload text helper', () => {
    expect(payloadText({ payload: new TextEncoder().encode('<Workflow Settings>\r\n') })).toBe('<Workflow Settings>\r\n');
    expect(payloadText({})).toBe('');
  });
});

describe('field range errors', () => {
  const u32Fields = ['code', 'status', 'hardwareId', 'subsystemId', 'clientId', 'cmdDataBits0', 'addDataBytes'] as const;
  const i32Fields = ['int32Data0', 'int32Data1', 'int32Data2'] as const;

  it('u32 fields refuse -1, 2^32, fractions and NaN', () => {
    for (const field of u32Fields) {
      for (const bad of [-1, 2 ** 32, 1.5, Number.NaN, Infinity]) {
        expect(() => encodePacket({ [field]: bad }), `${field}=${bad}`).toThrow(RangeError);
      }
    }
  });

  it('i32 fields refuse -2^31-1, 2^31, fractions and NaN', () => {
    for (const field of i32Fields) {
      for (const bad of [-0x80000001, 0x80000000, 0.5, Number.NaN]) {
        expect(() => encodePacket({ [field]: bad }), `${field}=${bad}`).toThrow(RangeError);
      }
    }
  });

  it('any integer outside a field range is refused (property)', () => {
    const outsideU32 = fc.oneof(fc.integer({ min: Number.MIN_SAFE_INTEGER, max: -1 }), fc.integer({ min: 2 ** 32, max: Number.MAX_SAFE_INTEGER }));
    const outsideI32 = fc.oneof(fc.integer({ min: Number.MIN_SAFE_INTEGER, max: -0x80000001 }), fc.integer({ min: 0x80000000, max: Number.MAX_SAFE_INTEGER }));
    fc.assert(
      fc.property(fc.constantFrom(...u32Fields), outsideU32, (field, v) => {
        expect(() => encodePacket({ [field]: v })).toThrow(RangeError);
      }),
    );
    fc.assert(
      fc.property(fc.constantFrom(...i32Fields), outsideI32, (field, v) => {
        expect(() => encodePacket({ [field]: v })).toThrow(RangeError);
      }),
    );
  });

  it('value refuses a non-number instead of coercing it', () => {
    expect(() => encodePacket({ value: '1.5' as unknown as number })).toThrow(RangeError);
  });

  it('encodeHeaderInto writes nothing when a field is out of range', () => {
    const target = new Uint8Array(PACKET_SIZE).fill(0xaa);
    expect(() => encodeHeaderInto({ code: 1, int32Data2: 2 ** 31 }, target)).toThrow(RangeError);
    expect(target.every((b) => b === 0xaa)).toBe(true);
  });

  it('encodeHeaderInto writes at an offset and refuses a target too small', () => {
    const target = new Uint8Array(PACKET_SIZE + 10);
    encodeHeaderInto({ code: 7 }, target, 10);
    expect(decodePacket(target.subarray(10)).code).toBe(7);
    expect(() => encodeHeaderInto({ code: 7 }, target, 11)).toThrow(RangeError);
  });
});

describe('decodePacket errors', () => {
  it('fewer than 128 bytes is a FrameError', () => {
    expect(() => decodePacket(new Uint8Array(127))).toThrow(FrameError);
    expect(() => decodePacketWithParser(new Uint8Array(127))).toThrow(FrameError);
  });

  it('a wrong start or end marker is a FrameError with code FRAME', () => {
    for (const at of [Offset.startMarker, Offset.endMarker]) {
      const bytes = encodePacket({ code: 1 });
      bytes[at] = (bytes[at] as number) ^ 0xff;
      for (const decode of [decodePacket, decodePacketWithParser]) {
        let caught: unknown;
        try {
          decode(bytes);
        } catch (error) {
          caught = error;
        }
        expect(caught).toBeInstanceOf(FrameError);
        expect((caught as FrameError).code).toBe('FRAME');
      }
    }
  });

  it('bytes after the header are ignored', () => {
    const bytes = new Uint8Array(200);
    bytes.set(encodePacket({ code: 9, addDataBytes: 72 }));
    expect(decodePacket(bytes).code).toBe(9);
    expect(decodePacket(bytes).payload).toBeUndefined();
  });
});

describe('decodePacket (DataView) and decodePacketWithParser (binary-parser) agree', () => {
  it('on arbitrary valid headers: any 120 bytes between the markers', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 120, maxLength: 120 }), (middle) => {
        const bytes = new Uint8Array(PACKET_SIZE);
        const view = new DataView(bytes.buffer);
        view.setUint32(0, START_MARKER, true);
        bytes.set(middle, 4);
        view.setUint32(124, END_MARKER, true);
        const a = decodePacket(bytes);
        const b = decodePacketWithParser(bytes);
        // NaN never equals itself; compare the value field by its bits instead.
        expect({ ...a, value: 0 }).toEqual({ ...b, value: 0 });
        expect(Object.is(a.value, b.value) || (Number.isNaN(a.value) && Number.isNaN(b.value))).toBe(true);
      }),
    );
  });

  it('both return a private copy of the data field, even from a Node Buffer', () => {
    const source = Buffer.from(encodePacket({ data: 'abc' }));
    for (const decode of [decodePacket, decodePacketWithParser]) {
      const packet = decode(source);
      expect(packet.data.constructor).toBe(Uint8Array);
      expect(packet.data.byteLength).toBe(DATA_SIZE);
      expect(packet.data.buffer.byteLength).toBe(DATA_SIZE); // owns its memory: no pool, no chunk
      source[52] = 0x7a;
      expect(dataText(packet)).toBe('abc');
      source[52] = 0x61;
    }
  });
});

describe('NaN in the value field (spec/protocol.md §Value field and NaN)', () => {
  const nanBits = fc
    .tuple(fc.boolean(), fc.bigInt({ min: 1n, max: (1n << 52n) - 1n }))
    .map(([negative, mantissa]) => (negative ? 1n << 63n : 0n) | (0x7ffn << 52n) | mantissa);

  function withValueBits(bits: bigint): Uint8Array {
    const bytes = encodePacket({ code: 1 });
    new DataView(bytes.buffer).setBigUint64(Offset.value, bits, true);
    return bytes;
  }
  function valueBits(bytes: Uint8Array): bigint {
    return new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(Offset.value, true);
  }
  const isNaNPattern = (bits: bigint) => ((bits >> 52n) & 0x7ffn) === 0x7ffn && (bits & ((1n << 52n) - 1n)) !== 0n;

  it('any NaN bit pattern decodes to NaN, and re-encodes to a NaN bit pattern (payload bits not promised)', () => {
    fc.assert(
      fc.property(nanBits, (bits) => {
        const packet = decodePacket(withValueBits(bits));
        expect(Number.isNaN(packet.value)).toBe(true);
        expect(isNaNPattern(valueBits(encodePacket(packet)))).toBe(true);
      }),
    );
  });

  it('the NaN literal encodes as the canonical quiet NaN 0x7FF8000000000000 (observed on V8 / Node 20)', () => {
    expect(valueBits(encodePacket({ value: Number.NaN })).toString(16)).toBe('7ff8000000000000');
  });

  it('a quiet NaN with payload bits survives decode → encode on V8 / Node 20 (observed, not promised)', () => {
    const bits = 0x7ff80000deadbeefn;
    expect(valueBits(encodePacket(decodePacket(withValueBits(bits))))).toBe(bits);
  });

  it('a signalling NaN may be quieted: the re-encoded bits differ at most in the quiet bit (bit 51)', () => {
    const bits = 0x7ff0000000000001n;
    const out = valueBits(encodePacket(decodePacket(withValueBits(bits))));
    expect(out === bits || out === (bits | (1n << 51n))).toBe(true);
  });
});

describe('vectors written by hand (independent of the encoder)', () => {
  it('a STAGE_POSITION_GET request with TRIGGER_CALL_BACK', () => {
    const hex =
      '54e621f3' +
      '08600000' +
      '00000000' +
      '00000000' +
      '00000000' +
      '07000000' +
      '02000000' +
      '00000000' +
      '00000000' +
      '00000080' +
      '0000000000000000' +
      '00000000' +
      '00'.repeat(72) +
      '2143dcfe';
    const packet = decodePacket(fromHex(hex));
    expect(packet).toMatchObject({ code: 0x6008, clientId: 7, int32Data0: 2, cmdDataBits0: 0x80000000, value: 0, addDataBytes: 0 });
    expect(toHex(encodePacket({ code: 0x6008, clientId: 7, int32Data0: 2, cmdDataBits0: 0x80000000 }))).toBe(hex);
  });

  it('values the properties must cover are also pinned: i32 min, -0, u32 max', () => {
    const p = decodePacket(encodePacket({ clientId: 0xffffffff, int32Data0: -0x80000000, value: -0 }));
    expect(p.clientId).toBe(0xffffffff);
    expect(p.int32Data0).toBe(-0x80000000);
    expect(Object.is(p.value, -0)).toBe(true);
  });
});
