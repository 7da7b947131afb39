import { encodePacket } from '../../protocol/codec.js';
import { Flags } from '../../protocol/flags.js';
import type { Packet, PacketInit, SequenceField } from '../../protocol/packet.js';
import type { PendingRequest } from './pending.js';

/** What correlation needs of the connection: writing, and whether the link is up. */
export interface Wire {
  /** The link is connected (false while reconnecting or after close). */
  readonly up: boolean;
  /**
   * Write a request's header and then its trailing payload (`request.payload`, which the
   * header only announces), contiguous; resolves once the transport accepted the last byte.
   * Rejects when the link is down. `request` is told to the state mirror just before the
   * first byte goes out.
   */
  write(bytes: Uint8Array, request?: PendingRequest): Promise<void>;
  /** Correlation found the reply of `request`; called just BEFORE the request resolves (the state mirror applies it). */
  replied?(packet: Packet, request: PendingRequest): void;
  /** Resolves true when the link is up (at once if it is), false when the client is finished. */
  whenUp(): Promise<boolean>;
  /** The gate of `exclusive()`: while closed, only requests made inside it are written. */
  readonly gateClosed: boolean;
}

/**
 * Header of a request (its payload, if any, follows it through Wire.write): its fields, TRIGGER_CALL_BACK (a server replies only to that flag),
 * and the sequence in `sequenceField` when one is given (sequenced mode).
 */
export function encodeRequest(request: PendingRequest, sequenceField?: SequenceField, sequence?: number): Uint8Array {
  const init: PacketInit = { ...request.fields, code: request.code };
  init.cmdDataBits0 = ((request.fields?.cmdDataBits0 ?? 0) | Flags.TRIGGER_CALL_BACK) >>> 0;
  if (sequenceField !== undefined) init[sequenceField] = sequence;
  // Header only: the payload is written after it by Wire.write, in chunks, without copying it.
  if (request.payload !== undefined) init.addDataBytes = request.payload.length;
  return encodePacket(init);
}
