import { describe, expect, it } from 'vitest';
import { encodePacket } from '../../protocol/codec.js';
import { ReplySlab } from '../../src/apps/gateway/reply-slab.js';

describe('ReplySlab (the gateway encodes its replies into views of a shared slab)', () => {
  it('gives the bytes encodePacket gives, and never rewrites a view it handed out, across slab boundaries', () => {
    const slab = new ReplySlab();
    const views: Uint8Array[] = [];
    const inits = Array.from({ length: 200 }, (_, i) => ({
      code: 0x3001 + (i % 7),
      status: 1,
      clientId: i + 1,
      hardwareId: i,
      int32Data0: -i,
      value: i / 3,
      data: `reply ${i}`,
    }));
    for (const init of inits) views.push(slab.encode(init));
    expect(views.map((v) => v.length)).toEqual(inits.map(() => 128));
    for (const [i, init] of inits.entries()) expect(Buffer.from(views[i] as Uint8Array).equals(Buffer.from(encodePacket(init)))).toBe(true);
  });

  it('gives a packet with a payload its own array (header and payload), as encodePacket does', () => {
    const slab = new ReplySlab();
    const init = { code: 0x1007, status: 1, clientId: 4, payload: new Uint8Array([1, 2, 3]) };
    const bytes = slab.encode(init);
    expect(bytes.length).toBe(131);
    expect(Buffer.from(bytes).equals(Buffer.from(encodePacket(init)))).toBe(true);
  });

  it('throws for a field out of range without using up or touching its slot', () => {
    const slab = new ReplySlab();
    const first = slab.encode({ code: 1, clientId: 1 });
    expect(() => slab.encode({ code: 2, clientId: -1 })).toThrow(RangeError);
    const second = slab.encode({ code: 3, clientId: 3 });
    expect(second.byteOffset - first.byteOffset).toBe(128);
    expect(Buffer.from(first).equals(Buffer.from(encodePacket({ code: 1, clientId: 1 })))).toBe(true);
    expect(Buffer.from(second).equals(Buffer.from(encodePacket({ code: 3, clientId: 3 })))).toBe(true);
  });
});
