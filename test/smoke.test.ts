import { describe, expect, it } from 'vitest';
import { Command, decodePacket, encodePacket } from 'flamingo-protocol';

describe('smoke', () => {
  it('round-trips one packet', () => {
    const p = decodePacket(encodePacket({ code: Command.STAGE_POSITION_GET, int32Data0: 2 }));
    expect(p.code).toBe(0x6008);
    expect(p.int32Data0).toBe(2);
  });
});
