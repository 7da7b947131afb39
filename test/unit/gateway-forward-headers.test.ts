import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Deframer, Flags, PendingRequest, encodePacket, encodeRequest, type Packet, type PacketInit } from 'flamingo-protocol';
import { writeDecodedHeader } from '../../protocol/header-write.js';
import { ReplySlab } from '../../src/apps/gateway/reply-slab.js';
import { encodeOrFail } from '../../src/correlation/wire.js';
import { packetInit } from '../support/packets.js';

/** `init` as the gateway gets it: encoded, then decoded by a deframer (data always 72 bytes). */
function decoded(init: PacketInit): Packet {
  const packets = new Deframer().push(encodePacket(init));
  expect(packets).toHaveLength(1);
  return packets[0] as Packet;
}

function pending(packet: Packet, header?: Uint8Array): PendingRequest {
  const { code, status, int32Data0, int32Data1, int32Data2, cmdDataBits0, value, data, payload } = packet;
  return new PendingRequest({
    code,
    name: 'X',
    fields: { status, int32Data0, int32Data1, int32Data2, cmdDataBits0, value, data },
    payload,
    timeoutMs: 1000,
    expectOk: false,
    signal: undefined,
    insideExclusive: false,
    header,
  });
}

describe('writeDecodedHeader (a decoded packet written back without the encoder checks)', () => {
  it('gives the header bytes encodePacket gives for every decoded packet', () => {
    fc.assert(
      fc.property(packetInit(true), (init) => {
        const packet = decoded(init);
        const target = new Uint8Array(3 * 128);
        writeDecodedHeader(packet, target, new DataView(target.buffer), 128);
        expect(Array.from(target.subarray(128, 256))).toEqual(Array.from(encodePacket(init).subarray(0, 128)));
        expect(target.subarray(0, 128).every((b) => b === 0) && target.subarray(256).every((b) => b === 0)).toBe(true);
      }),
    );
  });

  it('pads short data with zeros and refuses data over 72 bytes or a header that does not fit', () => {
    const target = new Uint8Array(128).fill(0xee);
    const packet = { ...decoded({ code: 7, data: 'ab' }), data: new Uint8Array([0x61, 0x62]) };
    writeDecodedHeader(packet, target, new DataView(target.buffer), 0);
    expect(Array.from(target)).toEqual(Array.from(encodePacket({ code: 7, data: 'ab' })));
    expect(() => writeDecodedHeader({ ...packet, data: new Uint8Array(73) }, target, new DataView(target.buffer), 0)).toThrow(RangeError);
    expect(() => writeDecodedHeader(packet, target, new DataView(target.buffer), 1)).toThrow(RangeError);
  });
});

describe("ReplySlab.forward and .relay (the gateway's forwarded headers)", () => {
  it('forward gives what encodeRequest gives for the same fields and payload, in every sequence mode', () => {
    fc.assert(
      fc.property(
        packetInit(true),
        fc.constantFrom<'clientId' | 'hardwareId' | 'subsystemId' | undefined>('clientId', 'hardwareId', 'subsystemId', undefined),
        fc.integer({ min: 1, max: 0xffffffff }),
        (init, field, sequence) => {
          const packet = decoded(init);
          const slab = new ReplySlab();
          const header = slab.forward(packet);
          const stamped = encodeOrFail(pending(packet, header), field, sequence) as Uint8Array;
          const expected = encodeRequest(pending(packet), field, sequence);
          expect(Array.from(stamped)).toEqual(Array.from(expected));
          // Stamped in place: the slab's view is what goes to the transport.
          expect(stamped).toBe(header);
        },
      ),
    );
  });

  it('a re-written request (after a lost link) is stamped on a copy, so bytes a dead transport may hold never change', () => {
    const packet = decoded({ code: 0x6008, int32Data0: 2, cmdDataBits0: Flags.TRIGGER_CALL_BACK });
    const header = new ReplySlab().forward(packet);
    const request = pending(packet, header);
    const first = encodeOrFail(request, 'clientId', 5) as Uint8Array;
    request.writeAttempt = 1;
    const second = encodeOrFail(request, 'clientId', 6) as Uint8Array;
    expect(second).not.toBe(first);
    expect(Array.from(first.subarray(20, 24))).toEqual([5, 0, 0, 0]);
    expect(Array.from(second.subarray(20, 24))).toEqual([6, 0, 0, 0]);
    expect(Array.from(second)).toEqual(Array.from(encodeRequest(pending(packet), 'clientId', 6)));
  });

  it("relay gives the instrument's reply with the app's own sequence fields, as encodePacket does", () => {
    fc.assert(
      fc.property(packetInit(false), fc.nat(), fc.nat(), fc.nat(), (init, hardwareId, subsystemId, clientId) => {
        const reply = decoded(init);
        const bytes = new ReplySlab().relay(reply, hardwareId >>> 0, subsystemId >>> 0, clientId >>> 0);
        const expected = encodePacket({ ...init, addDataBytes: 0, hardwareId: hardwareId >>> 0, subsystemId: subsystemId >>> 0, clientId: clientId >>> 0 });
        expect(Array.from(bytes)).toEqual(Array.from(expected));
      }),
    );
  });

  it('never rewrites a header it handed out: 200 forwarded and relayed headers across slab boundaries keep their bytes', () => {
    const slab = new ReplySlab();
    const out: [Uint8Array, number[]][] = [];
    for (let i = 0; i < 200; i++) {
      const packet = decoded({ code: 0x6008, int32Data0: i, clientId: i + 1, value: i / 4, data: `p${i}` });
      const bytes = i % 2 === 0 ? slab.forward(packet) : slab.relay(packet, i, i + 1, i + 2);
      out.push([bytes, Array.from(bytes)]);
    }
    for (const [bytes, copy] of out) expect(Array.from(bytes)).toEqual(copy);
    // 64 headers per slab: 200 headers took four slabs, each view its own 128 bytes.
    expect(new Set(out.map(([b]) => b.buffer)).size).toBe(4);
    expect(new Set(out.map(([b]) => `${String(out.findIndex(([c]) => c.buffer === b.buffer))}:${b.byteOffset}`)).size).toBe(200);
  });
});
