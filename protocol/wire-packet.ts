import type { Packet } from './packet.js';

/** What {@link claimPacket} found: the claimant's first claim, a repeat, or a packet it cannot mark. */
export type PacketClaim = 'first' | 'again' | 'unmarked';

/**
 * A packet as the decoder makes it (protocol/codec.ts readPacketAt): the {@link Packet}
 * fields, plus one private latch for a consumer that must act on each packet object once.
 *
 * Why: the state mirror applies every reply once (spec/state.md rule 7) and used to keep a
 * WeakSet entry per reply for that; an ephemeron table entry per packet cost the reader
 * about as much as the rest of the mirror's work (bench/client.ts). The latch is a private
 * class field: invisible to Object.keys, spread, JSON and structural equality, so a
 * WirePacket reads and compares as the plain Packet it is.
 */
export class WirePacket implements Packet {
  declare payload?: Uint8Array;
  /** The first claimant ({@link claimPacket}), or null. */
  #claimant: object | null = null;

  constructor(
    public code: number,
    public status: number,
    public hardwareId: number,
    public subsystemId: number,
    public clientId: number,
    public int32Data0: number,
    public int32Data1: number,
    public int32Data2: number,
    public cmdDataBits0: number,
    public value: number,
    public addDataBytes: number,
    public data: Uint8Array,
  ) {}

  /** See {@link claimPacket}. */
  static claim(packet: Packet, claimant: object): PacketClaim {
    if (!(#claimant in packet)) return 'unmarked';
    const wire = packet as WirePacket;
    if (wire.#claimant === null) {
      wire.#claimant = claimant;
      return 'first';
    }
    return wire.#claimant === claimant ? 'again' : 'unmarked';
  }
}

/**
 * Claim `packet` for `claimant`: `'first'` the first time this claimant claims this packet
 * object, `'again'` after that. `'unmarked'` when the packet carries no latch (not made by the
 * decoder) or another claimant took its latch first: the caller then keeps its own record
 * (a WeakSet), so the answer is always right, only not always free.
 */
export function claimPacket(packet: Packet, claimant: object): PacketClaim {
  return WirePacket.claim(packet, claimant);
}
