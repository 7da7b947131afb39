import { Flags, decodePacket, encodePacket, type Packet, type PacketInit } from 'flamingo-protocol';

/**
 * What FlamingoClient.forward takes for `init`: the packet as the deframer gives it, and its
 * upstream header (sequence fields 0, TRIGGER_CALL_BACK set), as the gateway's ReplySlab.forward writes it.
 */
export function forwardable(init: PacketInit & { code: number }): { packet: Packet; header: Uint8Array } {
  const packet = decodePacket(encodePacket(init));
  const header = encodePacket({
    ...init,
    hardwareId: 0,
    subsystemId: 0,
    clientId: 0,
    cmdDataBits0: ((init.cmdDataBits0 ?? 0) | Flags.TRIGGER_CALL_BACK) >>> 0,
  });
  return { packet, header };
}
