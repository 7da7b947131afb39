import { dataText } from '../../protocol/codec.js';
import { parseLaserLevel } from '../../protocol/laser-level.js';
import type { Packet, PacketInit } from '../../protocol/packet.js';

/**
 * Reading typed values out of packets and requests for the mirror. Anything that does not
 * parse is `undefined`, and an undefined value never updates a field: a malformed packet
 * changes nothing rather than writing a guess.
 */

const utf8 = new TextDecoder('utf-8', { fatal: false });

/**
 * A percent level from its text form, or undefined when the text is not a plain decimal
 * ("getLevel error" included). The rule lives in protocol/laser-level.ts.
 */
const parseLevelText: (text: string) => number | undefined = parseLaserLevel;

/** The level carried in a received packet's data field. */
export function packetLevel(packet: Packet): number | undefined {
  return parseLevelText(dataText(packet));
}

/** The level a request carries in its data field (text or bytes, NUL-padded). */
export function requestLevel(request: PacketInit): number | undefined {
  const data = request.data;
  if (data === undefined) return undefined;
  if (typeof data === 'string') {
    const nul = data.indexOf('\0');
    return parseLevelText(nul < 0 ? data : data.slice(0, nul));
  }
  const end = data.indexOf(0);
  return parseLevelText(utf8.decode(end < 0 ? data : data.subarray(0, end)));
}

/** A finite number, or undefined (NaN and infinities are never a position or a size). */
export function finite(n: number | undefined): number | undefined {
  return n !== undefined && Number.isFinite(n) ? n : undefined;
}

/**
 * The axis or laser index a reply is about: the request's int32Data0 when the reply's request
 * is known (an omitted field went out as 0), else the reply's echo of it.
 */
export function index0(packet: Packet, request: PacketInit | undefined): number {
  return request !== undefined ? (request.int32Data0 ?? 0) : packet.int32Data0;
}
