import { Command, commandSpec } from '../../../protocol/commands.js';
import { Offset } from '../../../protocol/constants.js';
import type { Packet } from '../../../protocol/packet.js';
import type { ReadRecord } from './capture-format.js';

/** Bytes the server sent after a request, `delayMs` after it (a reply, a push, garbage). */
export interface Follower {
  delayMs: number;
  bytes: Uint8Array;
  /** The decoded packet; undefined for garbage. */
  packet: Packet | undefined;
}

/** One client request of a capture and what the server sent until the next request. */
export interface RecordedExchange {
  conn: number;
  t: number;
  request: Packet;
  requestBytes: Uint8Array;
  followers: Follower[];
  /** The first follower coded as the request's reply, if one came. */
  reply: Packet | undefined;
}

/** A capture turned into what replay needs. */
export interface ReplayScript {
  /** Every client request in capture order. */
  exchanges: RecordedExchange[];
  /** Server bytes of each recorded connection before its first request (at connect). */
  initial: Follower[][];
}

/**
 * The code a request's reply carries. Only settings load differs: it is answered with a
 * packet coded COMMON_SCOPE_SETTINGS (spec/protocol.md).
 */
export function replyCodeFor(code: number): number {
  return code === Command.COMMON_SCOPE_SETTINGS_LOAD ? Command.COMMON_SCOPE_SETTINGS : code;
}

const hex = (b: Uint8Array | undefined) => (b === undefined ? '' : Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex'));

/**
 * What makes two requests "the same" for replay (spec/capture.md §Replay): the code and
 * every argument (int32Data0..2, value, data field, payload). Status, flags and the three
 * sequence fields are left out: they differ between clients asking the same thing.
 */
export function requestKey(p: Packet): string {
  return `${p.code}|${p.int32Data0}|${p.int32Data1}|${p.int32Data2}|${Object.is(p.value, -0) ? 0 : p.value}|${hex(p.data)}|${hex(p.payload)}`;
}

/**
 * Is `packet` the reply to `request`? Its code is the reply code, it carries the request's
 * sequence fields when the request had any (the sequenced extension), and it agrees in the
 * command's lease matcher fields (spec/commands.json), so pipelined requests of one code
 * each get their own reply.
 */
export function answers(request: Packet, packet: Packet): boolean {
  if (packet.code !== replyCodeFor(request.code)) return false;
  const stamped = (request.hardwareId | request.subsystemId | request.clientId) !== 0;
  if (stamped && (packet.hardwareId !== request.hardwareId || packet.subsystemId !== request.subsystemId || packet.clientId !== request.clientId)) {
    // A server that echoes nothing answers with zeros: still this request's reply.
    if ((packet.hardwareId | packet.subsystemId | packet.clientId) !== 0) return false;
  }
  for (const field of commandSpec(request.code)?.matcher ?? []) if (!Object.is(packet[field], request[field])) return false;
  return true;
}

/** Build the replay script of a capture's records. */
export function buildReplayScript(records: readonly ReadRecord[]): ReplayScript {
  const exchanges: RecordedExchange[] = [];
  const last = new Map<number, RecordedExchange>();
  /** Per connection, the requests still waiting for their reply, oldest first. */
  const waiting = new Map<number, RecordedExchange[]>();
  const initialByConn = new Map<number, Follower[]>();
  const openOrder: number[] = [];
  const openedAt = new Map<number, number>();
  for (const r of records) {
    if (r.type === 'open') {
      openOrder.push(r.conn);
      openedAt.set(r.conn, r.t);
      initialByConn.set(r.conn, []);
      continue;
    }
    if (r.type !== 'packet' && r.type !== 'garbage') continue;
    if (r.dir === 'c2s') {
      if (r.type === 'garbage') continue;
      const exchange: RecordedExchange = { conn: r.conn, t: r.t, request: r.packet, requestBytes: r.bytes, followers: [], reply: undefined };
      exchanges.push(exchange);
      last.set(r.conn, exchange);
      const list = waiting.get(r.conn) ?? [];
      // Bounded: a request that never got a reply stops being a candidate after 64 more.
      if (list.length >= 64) list.shift();
      list.push(exchange);
      waiting.set(r.conn, list);
      continue;
    }
    const bytes = r.type === 'packet' ? r.bytes : new Uint8Array(Buffer.from(r.hex, 'hex'));
    const packet = r.type === 'packet' ? r.packet : undefined;
    const pending = waiting.get(r.conn) ?? [];
    const answered = packet === undefined ? -1 : pending.findIndex((e) => answers(e.request, packet));
    const owner = answered >= 0 ? pending.splice(answered, 1)[0] : last.get(r.conn);
    if (owner === undefined) {
      const list = initialByConn.get(r.conn) ?? [];
      initialByConn.set(r.conn, list);
      list.push({ delayMs: r.t - (openedAt.get(r.conn) ?? 0), bytes, packet });
      continue;
    }
    owner.followers.push({ delayMs: r.t - owner.t, bytes, packet });
    if (answered >= 0) owner.reply = packet;
  }
  return { exchanges, initial: openOrder.map((c) => initialByConn.get(c) ?? []) };
}

/**
 * A recorded reply adapted to a new request: when the recorded reply carried the recorded
 * request's sequence fields (the sequenced extension), it gets the new request's instead.
 * Anything else is sent back exactly as recorded.
 */
export function adaptFollower(follower: Follower, recorded: Packet, now: Packet): Uint8Array {
  const p = follower.packet;
  if (p === undefined || p.code !== replyCodeFor(recorded.code)) return follower.bytes;
  const same = p.hardwareId === recorded.hardwareId && p.subsystemId === recorded.subsystemId && p.clientId === recorded.clientId;
  const changed = recorded.hardwareId !== now.hardwareId || recorded.subsystemId !== now.subsystemId || recorded.clientId !== now.clientId;
  const stamped = (recorded.hardwareId | recorded.subsystemId | recorded.clientId) !== 0;
  if (!same || !changed || !stamped) return follower.bytes;
  const out = new Uint8Array(follower.bytes);
  const view = new DataView(out.buffer);
  view.setUint32(Offset.hardwareId, now.hardwareId, true);
  view.setUint32(Offset.subsystemId, now.subsystemId, true);
  view.setUint32(Offset.clientId, now.clientId, true);
  return out;
}
