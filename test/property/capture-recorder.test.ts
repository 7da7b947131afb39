import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodePacket } from '../../protocol/index.js';
import type { CaptureRecord } from '../../src/apps/capture/capture-format.js';
import { StreamRecorder } from '../../src/apps/capture/stream-recorder.js';

const piece = fc.oneof(
  fc
    .record({
      code: fc.integer({ min: 0, max: 0xffff }),
      int32Data0: fc.integer({ min: -5, max: 5 }),
      payload: fc.option(fc.uint8Array({ minLength: 1, maxLength: 300 }), { nil: undefined }),
    })
    .map((init) => ({ kind: 'packet' as const, bytes: encodePacket(init) })),
  fc.uint8Array({ minLength: 1, maxLength: 40 }).map((bytes) => ({ kind: 'garbage' as const, bytes })),
);

function record(stream: Uint8Array, cuts: number[]): CaptureRecord[] {
  const out: CaptureRecord[] = [];
  const recorder = new StreamRecorder(1, 'c2s', (r) => out.push(r));
  let at = 0;
  for (const cut of [...cuts.filter((c) => c > 0 && c < stream.length)].sort((a, b) => a - b).concat(stream.length)) {
    recorder.push(stream.slice(at, cut), at);
    at = cut;
  }
  recorder.end(stream.length);
  return out;
}

describe('StreamRecorder', () => {
  it('attributes every byte, in order, however the stream is cut: packets exact, the rest garbage', () => {
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), fc.array(fc.nat(4000), { maxLength: 20 }), (pieces, cuts) => {
        const stream = Buffer.concat(pieces.map((p) => p.bytes));
        const records = record(stream, cuts);
        const bytes = records.filter((r) => r.type === 'packet' || r.type === 'garbage').map((r) => Buffer.from((r as { hex: string }).hex, 'hex'));
        expect(Buffer.concat(bytes).equals(stream)).toBe(true);
        const whole = record(stream, []);
        // The packets found do not depend on the cuts (the deframer's invariant).
        const packets = (rs: CaptureRecord[]) => rs.filter((r) => r.type === 'packet').map((r) => (r as { hex: string }).hex);
        expect(packets(records)).toEqual(packets(whole));
        for (const p of pieces.filter((x) => x.kind === 'packet')) {
          // A packet preceded only by packets is always found whole.
          if (pieces.indexOf(p) === 0) expect(packets(whole)[0]).toBe(Buffer.from(p.bytes).toString('hex'));
        }
      }),
    );
  });
});
