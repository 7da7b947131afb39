import type { Packet, PacketInit } from '../../../protocol/packet.js';
import type { MoveTracker } from '../moves.js';
import type { InstrumentSnapshot } from '../types.js';

/** Mutable bookkeeping a reducer may consult that is not part of the published state. */
export interface ReduceContext {
  readonly moves: MoveTracker;
}

/**
 * Computes the state after one received packet. Pure with respect to the snapshot: returns
 * `s` itself when the packet changes nothing, otherwise a draft built by the helpers in
 * snapshot.ts (the owner freezes it and stamps the version). `request` is the request the
 * packet answers, or undefined for an unsolicited push or a reply nobody was waiting for.
 */
export type Reducer = (s: InstrumentSnapshot, packet: Packet, request: PacketInit | undefined, ctx: ReduceContext) => InstrumentSnapshot;
