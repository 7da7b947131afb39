import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Flags, PendingRequest, encodePacket, encodeRequest, type SequenceField } from 'flamingo-protocol';
import { headerFields } from '../support/packets.js';

describe('encodeRequest (the request path encoder)', () => {
  it('gives exactly the bytes of encodePacket with the callback flag, the sequence and the payload length', () => {
    fc.assert(
      fc.property(
        headerFields,
        fc.integer({ min: 0, max: 0xffff }),
        fc.option(fc.constantFrom<SequenceField>('clientId', 'hardwareId', 'subsystemId'), { nil: undefined }),
        fc.integer({ min: 1, max: 0xffffffff }),
        fc.option(fc.nat({ max: 300 }), { nil: undefined }),
        (fields, code, sequenceField, sequence, payloadLength) => {
          const payload = payloadLength === undefined ? undefined : new Uint8Array(payloadLength);
          const request = new PendingRequest({
            code,
            name: 'X',
            fields,
            payload,
            timeoutMs: 1000,
            expectOk: false,
            signal: undefined,
            insideExclusive: false,
          });
          const expected = encodePacket({
            ...fields,
            code,
            cmdDataBits0: ((fields.cmdDataBits0 ?? 0) | Flags.TRIGGER_CALL_BACK) >>> 0,
            ...(sequenceField !== undefined ? { [sequenceField]: sequence } : {}),
            ...(payload !== undefined ? { addDataBytes: payload.length } : {}),
          });
          expect(Array.from(encodeRequest(request, sequenceField, sequence))).toEqual(Array.from(expected));
        },
      ),
    );
  });

  it('refuses data over 72 bytes', () => {
    const request = new PendingRequest({
      code: 1,
      name: 'X',
      fields: { data: 'é'.repeat(40) },
      payload: undefined,
      timeoutMs: 1000,
      expectOk: false,
      signal: undefined,
      insideExclusive: false,
    });
    expect(() => encodeRequest(request)).toThrow(RangeError);
  });
});
