import { replyCodeOf } from '../../protocol/command-profile.js';
import { COMMANDS } from '../../protocol/commands.js';
import type { Packet, PacketField } from '../../protocol/packet.js';

/** Numeric request fields a matcher compares: the request's value of each field, 0 when unset. */
export type MatchSource = Partial<Record<PacketField, number>>;

const NONE: readonly PacketField[] = [];
const matchers = new Map<number, readonly PacketField[]>(COMMANDS.map((c) => [c.code, c.matcher]));
const ambiguous = new Set<number>(COMMANDS.filter((c) => c.replies && c.unsolicited).map((c) => c.code));

/**
 * Fields a lease-mode reply must share with its request, besides the code (from the
 * COMMANDS table, which mirrors spec/commands.json): `int32Data0` for stage position
 * get/set/slider (the axis) and laser level get/set (the laser); none for other codes.
 */
export function matcherFields(code: number): readonly PacketField[] {
  return matchers.get(code) ?? NONE;
}

/**
 * True when `packet` can be the lease-mode reply to a request with `code` and `fields`:
 * the code its answer carries (`replyCodeOf`), and equal in every matcher field.
 */
export function replyMatches(code: number, fields: MatchSource, packet: Packet): boolean {
  if (packet.code !== replyCodeOf(code)) return false;
  const matcher = matchers.get(code);
  if (matcher === undefined) return true;
  for (let i = 0; i < matcher.length; i++) {
    const field = matcher[i] as PacketField;
    if (packet[field] !== (fields[field] ?? 0)) return false;
  }
  return true;
}

/**
 * True for a command the server both answers and pushes unasked (LASER_LEVEL_GET,
 * CAMERA_STACK_COMPLETE): in lease mode its reply cannot be told from a push by the
 * header alone, so the lease sends a fence right behind it (spec/correlation.md).
 */
export function isAmbiguousReply(code: number): boolean {
  return ambiguous.has(code);
}
