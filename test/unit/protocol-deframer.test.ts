import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Deframer, FrameError, Offset, PACKET_SIZE, encodePacket } from 'flamingo-protocol';
import type { Packet, PacketInit, ResyncInfo } from 'flamingo-protocol';
import { bytewise, concat, expectedPacket, garbage, packetInit, splitAt, streamOf, wireSize } from '../support/packets.js';

interface Run {
  packets: Packet[];
  errors: FrameError[];
  resyncs: ResyncInfo[];
  deframer: Deframer;
}

function feed(chunks: readonly Uint8Array[], maxPayloadBytes?: number): Run {
  const errors: FrameError[] = [];
  const resyncs: ResyncInfo[] = [];
  const deframer = new Deframer({
    ...(maxPayloadBytes !== undefined ? { maxPayloadBytes } : {}),
    onError: (e) => errors.push(e),
    onResync: (r) => resyncs.push(r),
  });
  const packets: Packet[] = [];
  for (const c of chunks) packets.push(...deframer.push(c));
  return { packets, errors, resyncs, deframer };
}

/** Bytes accounted for: every pushed byte is in a packet, skipped, or buffered. */
function accounted(run: Run): number {
  return run.packets.reduce((n, p) => n + wireSize(p), 0) + run.deframer.skippedBytes + run.deframer.bufferedBytes;
}

/** A header with both markers right whose fields say nothing (a "false header" in garbage). */
function hasFalseHeader(stream: Uint8Array, from: number, to: number): boolean {
  const view = new DataView(stream.buffer, stream.byteOffset, stream.byteLength);
  for (let i = from; i < to && i + PACKET_SIZE <= stream.length; i++) {
    if (view.getUint32(i, true) === 0xf321e654 && view.getUint32(i + Offset.endMarker, true) === 0xfedc4321) return true;
  }
  return false;
}

const cuts = (max: number) => fc.array(fc.integer({ min: 1, max }), { maxLength: 40 });

describe('chunking invariance', () => {
  it('any packets with payloads, cut anywhere, decode to the same packets (exact fields and payload bytes)', () => {
    fc.assert(
      fc.property(fc.array(packetInit(), { minLength: 1, maxLength: 6 }), cuts(3000), (inits, at) => {
        const stream = streamOf(inits);
        const expected = inits.map(expectedPacket);
        const run = feed(splitAt(stream, at));
        expect(run.packets).toEqual(expected);
        // Sockets deliver Node Buffers (whose slice() is a view): same packets, plain copies.
        expect(feed(splitAt(Buffer.from(stream), at)).packets).toEqual(expected);
        expect(run.deframer.skippedBytes).toBe(0);
        expect(run.deframer.bufferedBytes).toBe(0);
        expect(run.deframer.packets).toBe(inits.length);
        expect(run.errors).toEqual([]);
        expect(run.resyncs).toEqual([]);
      }),
    );
  });

  it('the same stream whole, as 1-byte chunks, and as small random pieces', () => {
    fc.assert(
      fc.property(fc.array(packetInit(), { minLength: 1, maxLength: 4 }), fc.integer({ min: 1, max: 200 }), (inits, piece) => {
        const stream = streamOf(inits);
        const expected = inits.map(expectedPacket);
        expect(feed([stream]).packets).toEqual(expected);
        expect(feed(bytewise(stream)).packets).toEqual(expected);
        const pieces: Uint8Array[] = [];
        for (let i = 0; i < stream.length; i += piece) pieces.push(stream.subarray(i, i + piece));
        expect(feed(pieces).packets).toEqual(expected);
      }),
      { numRuns: 30 },
    );
  });

  it('payloads are private copies: reusing the chunk memory afterwards changes nothing', () => {
    const stream = streamOf([{ code: 1, payload: Uint8Array.of(1, 2, 3), data: 'x' }, { code: 2 }]);
    const chunk = Buffer.from(stream); // what a socket delivers
    const [first] = new Deframer().push(chunk);
    chunk.fill(0);
    expect(first?.payload).toEqual(Uint8Array.of(1, 2, 3));
    expect(first?.payload?.constructor).toBe(Uint8Array);
    expect(first?.data[0]).toBe(0x78);
  });

  it('an empty chunk returns nothing and changes nothing', () => {
    const d = new Deframer();
    expect(d.push(new Uint8Array(0))).toEqual([]);
    expect(d.bufferedBytes).toBe(0);
  });

  it('a push that completes nothing returns an empty array that cannot be corrupted', () => {
    const d = new Deframer();
    const empty = d.push(new Uint8Array(10));
    expect(empty).toEqual([]);
    expect(() => (empty as Packet[]).push({} as Packet)).toThrow(TypeError);
  });
});

describe('resynchronisation (spec/protocol.md §Resynchronisation)', () => {
  it('garbage between packets never loses the packet after it; skippedBytes and resyncs are exact', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.option(garbage, { nil: undefined }), packetInit()), { minLength: 1, maxLength: 5 }),
        fc.option(garbage, { nil: undefined }),
        cuts(2000),
        (items, trailing, at) => {
          const parts: Uint8Array[] = [];
          const runs: number[] = [];
          for (const [junk, init] of items) {
            if (junk !== undefined) {
              parts.push(junk);
              runs.push(junk.length);
            }
            parts.push(encodePacket(init));
          }
          if (trailing !== undefined) parts.push(trailing);
          const stream = concat(parts);
          // Within the guarantee: no false header (both markers right) starts inside garbage.
          fc.pre(!garbageHasFalseHeader(items, stream));
          const run = feed(splitAt(stream, at));
          expect(run.packets).toEqual(items.map(([, init]) => expectedPacket(init)));
          const skippedBeforePackets = runs.reduce((a, b) => a + b, 0);
          expect(run.resyncs).toEqual(runs.map((skippedBytes) => ({ skippedBytes })));
          expect(run.deframer.resyncs).toBe(runs.length);
          // Trailing garbage is skipped or still buffered (it may be the start of a packet).
          expect(run.deframer.skippedBytes + run.deframer.bufferedBytes).toBe(skippedBeforePackets + (trailing?.length ?? 0));
          expect(accounted(run)).toBe(stream.length);
          expect(run.errors).toEqual([]);
        },
      ),
    );
  });

  it('garbage that is a prefix of the start marker at the end of a chunk is kept, then skipped exactly', () => {
    const packet = encodePacket({ code: 0x6010, status: 1, int32Data0: 3, value: 12.5 });
    for (const n of [1, 2, 3]) {
      const junk = Uint8Array.of(0x54, 0xe6, 0x21).subarray(0, n);
      const run = feed([junk, packet]);
      expect(run.packets).toHaveLength(1);
      expect(run.packets[0]?.value).toBe(12.5);
      expect(run.deframer.skippedBytes).toBe(n);
      expect(run.resyncs).toEqual([{ skippedBytes: n }]);
      // The marker prefix ends the chunk: it stays buffered until the next chunk decides.
      const d = new Deframer();
      d.push(concat([new Uint8Array(200).fill(7), junk]));
      expect(d.bufferedBytes).toBe(n);
      expect(d.skippedBytes).toBe(200);
    }
  });

  it('a false start marker in garbage costs only the garbage', () => {
    const packet = encodePacket({ code: 0xa002, status: 1 });
    const junk = concat([Uint8Array.of(1, 2), Uint8Array.of(0x54, 0xe6, 0x21, 0xf3), new Uint8Array(30).fill(9)]);
    for (const chunks of [[concat([junk, packet])], bytewise(concat([junk, packet])), [junk, packet]]) {
      const run = feed(chunks);
      expect(run.packets.map((p) => p.code)).toEqual([0xa002]);
      expect(run.deframer.skippedBytes).toBe(junk.length);
      expect(run.resyncs).toEqual([{ skippedBytes: junk.length }]);
    }
  });

  it('a corrupted end marker: that header is skipped, the packet after it is decoded', () => {
    const bad = encodePacket({ code: 1 });
    bad[Offset.endMarker] = 0;
    const run = feed([concat([bad, encodePacket({ code: 2 })])]);
    expect(run.packets.map((p) => p.code)).toEqual([2]);
    expect(run.deframer.skippedBytes).toBe(PACKET_SIZE);
    expect(run.resyncs).toEqual([{ skippedBytes: PACKET_SIZE }]);
  });

  it('a run of garbage spanning many chunks is reported once, when the next packet arrives', () => {
    const run = feed([new Uint8Array(500).fill(1), new Uint8Array(300).fill(2), encodePacket({ code: 5 })]);
    expect(run.resyncs).toEqual([{ skippedBytes: 800 }]);
    expect(run.packets.map((p) => p.code)).toEqual([5]);
  });

  it('regression (fast-check counterexample): garbage shorter than a header at a chunk end is skipped at once, not buffered', () => {
    // Before the fix, 300 bytes of garbage pushed as 200 + 100 left 100 bytes buffered while
    // the same bytes pushed whole were all skipped: the counters depended on the cuts.
    const junk = new Uint8Array(300).fill(0x11);
    const whole = feed([junk]);
    const cut = feed([junk.subarray(0, 200), junk.subarray(200)]);
    expect([whole.deframer.skippedBytes, whole.deframer.bufferedBytes]).toEqual([300, 0]);
    expect([cut.deframer.skippedBytes, cut.deframer.bufferedBytes]).toEqual([300, 0]);
    // A start marker with fewer than 128 bytes after it stays buffered: it may be a packet.
    const started = feed([concat([Uint8Array.of(1, 2), Uint8Array.of(0x54, 0xe6, 0x21, 0xf3, 9)])]);
    expect([started.deframer.skippedBytes, started.deframer.bufferedBytes]).toEqual([2, 5]);
  });

  it('trailing garbage with no packet after it is counted but not reported as a resync', () => {
    const run = feed([encodePacket({ code: 1 }), new Uint8Array(300).fill(3)]);
    expect(run.deframer.skippedBytes).toBe(300);
    expect(run.resyncs).toEqual([]);
  });
});

function garbageHasFalseHeader(items: readonly [Uint8Array | undefined, PacketInit][], stream: Uint8Array): boolean {
  let offset = 0;
  for (const [junk, init] of items) {
    if (junk !== undefined) {
      if (hasFalseHeader(stream, offset, offset + junk.length)) return true;
      offset += junk.length;
    }
    offset += wireSize(expectedPacket(init));
  }
  return hasFalseHeader(stream, offset, stream.length);
}

describe('payload claims over the limit', () => {
  function oversized(claim: number): Uint8Array {
    const bytes = encodePacket({ code: 0x1007 });
    new DataView(bytes.buffer).setUint32(Offset.addDataBytes, claim, true);
    return bytes;
  }

  it('0xFFFFFFFF: FrameError with claimedBytes and offset, header skipped, next packet decoded', () => {
    const good = encodePacket({ code: 0x6008, int32Data0: 1, value: 7.25 });
    const lead = encodePacket({ code: 0xa007 });
    const stream = concat([lead, oversized(0xffffffff), good]);
    for (const chunks of [[stream], bytewise(stream), splitAt(stream, [130, 200, 256 + 5])]) {
      const run = feed(chunks);
      expect(run.packets.map((p) => p.code)).toEqual([0xa007, 0x6008]);
      expect(run.packets[1]?.value).toBe(7.25);
      expect(run.errors).toHaveLength(1);
      expect(run.errors[0]).toBeInstanceOf(FrameError);
      expect(run.errors[0]?.code).toBe('FRAME');
      expect(run.errors[0]?.claimedBytes).toBe(0xffffffff);
      expect(run.errors[0]?.offset).toBe(PACKET_SIZE);
      expect(run.deframer.errors).toBe(1);
      expect(run.deframer.skippedBytes).toBe(PACKET_SIZE);
      expect(run.resyncs).toEqual([{ skippedBytes: PACKET_SIZE }]);
    }
  });

  it('never allocates the claimed size: no Uint8Array or ArrayBuffer of more than the limit is created', () => {
    // Spy on the constructors the deframer could use to allocate a payload buffer.
    const RealU8 = globalThis.Uint8Array;
    const RealAB = globalThis.ArrayBuffer;
    const sizes: number[] = [];
    class SpyU8 extends RealU8 {
      constructor(...args: unknown[]) {
        if (typeof args[0] === 'number') sizes.push(args[0]);
        super(...(args as [number]));
      }
    }
    class SpyAB extends RealAB {
      constructor(n: number) {
        sizes.push(n);
        super(n);
      }
    }
    const stream = concat([oversized(0xffffffff), oversized(64 * 1024 * 1024 + 1), encodePacket({ code: 1 })]);
    const deframer = new Deframer({ onError: () => {} });
    globalThis.Uint8Array = SpyU8 as unknown as Uint8ArrayConstructor;
    globalThis.ArrayBuffer = SpyAB as unknown as ArrayBufferConstructor;
    let packets: Packet[];
    try {
      packets = [...deframer.push(stream.subarray(0, 100)), ...deframer.push(stream.subarray(100))];
    } finally {
      globalThis.Uint8Array = RealU8;
      globalThis.ArrayBuffer = RealAB;
    }
    expect(packets.map((p) => p.code)).toEqual([1]);
    expect(deframer.errors).toBe(2);
    expect(Math.max(0, ...sizes)).toBeLessThanOrEqual(PACKET_SIZE);
  });

  it('process memory does not grow by the claim (a second, independent check)', () => {
    const before = process.memoryUsage().arrayBuffers;
    const deframer = new Deframer({ maxPayloadBytes: 0xffffffff - 1 });
    deframer.push(oversized(0xffffffff));
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(1024 * 1024);
    expect(deframer.errors).toBe(1);
  });

  it('the limit is inclusive: a claim equal to maxPayloadBytes is a packet', () => {
    const run = feed([encodePacket({ code: 3, payload: new Uint8Array(10).fill(4) })], 10);
    expect(run.packets[0]?.payload).toEqual(new Uint8Array(10).fill(4));
    const over = feed([encodePacket({ code: 3, payload: new Uint8Array(11) }), encodePacket({ code: 4 })], 10);
    expect(over.errors.map((e) => e.claimedBytes)).toEqual([11]);
    // The 11 payload bytes are garbage once the header is refused.
    expect(over.packets.map((p) => p.code)).toEqual([4]);
    expect(over.deframer.skippedBytes).toBe(PACKET_SIZE + 11);
  });

  it('a bad limit is refused at construction', () => {
    expect(() => new Deframer({ maxPayloadBytes: Number.NaN })).toThrow(RangeError);
    expect(() => new Deframer({ maxPayloadBytes: -1 })).toThrow(RangeError);
  });
});

describe('arbitrary input', () => {
  it('any byte strings pushed in any chunks never throw, and every byte is accounted for', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.uint8Array({ maxLength: 300 }),
            packetInit().map((i) => encodePacket(i)),
            garbage,
            fc.uint8Array({ minLength: 1, maxLength: 127 }).map((b) => concat([Uint8Array.of(0x54, 0xe6, 0x21, 0xf3), b])),
          ),
          { maxLength: 10 },
        ),
        fc.integer({ min: 0, max: 20 }),
        (parts, maxPayloadBytes) => {
          const stream = concat(parts);
          const summary = (r: Run) => ({
            packets: r.packets,
            skippedBytes: r.deframer.skippedBytes,
            bufferedBytes: r.deframer.bufferedBytes,
            resyncs: r.resyncs,
            errors: r.errors.map((e) => [e.claimedBytes, e.offset]),
          });
          const whole = feed([stream], maxPayloadBytes);
          expect(accounted(whole)).toBe(stream.length);
          // However the stream is cut, the outcome and every counter are the same.
          for (const chunks of [splitAt(stream, [17, 128, 129, 300, 301, 777]), bytewise(stream)]) {
            const run = feed(chunks, maxPayloadBytes);
            expect(accounted(run)).toBe(stream.length);
            expect(summary(run)).toEqual(summary(whole));
          }
        },
      ),
    );
  });

  it('a throwing callback does not unwind push(): the packets still come out', async () => {
    const deframer = new Deframer({
      onResync: () => {
        throw new Error('listener bug');
      },
    });
    const rethrown = new Promise<unknown>((resolve) => {
      const handler = (error: unknown) => {
        process.off('uncaughtException', handler);
        resolve(error);
      };
      process.on('uncaughtException', handler);
    });
    const packets = deframer.push(concat([Uint8Array.of(1, 2, 3), encodePacket({ code: 8 }), encodePacket({ code: 9 })]));
    expect(packets.map((p) => p.code)).toEqual([8, 9]);
    expect(((await rethrown) as Error).message).toBe('listener bug');
  });

  it('reset() forgets a partial header and a partial payload', () => {
    const d = new Deframer();
    d.push(encodePacket({ code: 1, payload: new Uint8Array(50) }).subarray(0, 140));
    expect(d.bufferedBytes).toBe(140);
    d.reset();
    expect(d.bufferedBytes).toBe(0);
    expect(d.push(encodePacket({ code: 2 })).map((p) => p.code)).toEqual([2]);
    d.push(encodePacket({ code: 3 }).subarray(0, 50));
    d.reset();
    expect(d.push(encodePacket({ code: 4 })).map((p) => p.code)).toEqual([4]);
  });
});
