import { encodePacket } from '../../protocol/codec.js';
import { Flags } from '../../protocol/flags.js';
import type { PacketInit, SequenceField } from '../../protocol/packet.js';
import type { PendingRequest } from './pending.js';

/** What correlation needs of the connection: writing, and whether the link is up. */
export interface Wire {
  /** The link is connected (false while reconnecting or after close). */
  readonly up: boolean;
  /** Write bytes; resolves once the transport accepted them. Rejects when the link is down. */
  write(bytes: Uint8Array): Promise<void>;
  /** Resolves true when the link is up (at once if it is), false when the client is finished. */
  whenUp(): Promise<boolean>;
  /** The gate of `exclusive()`: while closed, only requests made inside it are written. */
  readonly gateClosed: boolean;
}

/**
 * Bytes of a request: its fields, TRIGGER_CALL_BACK (a server replies only to that flag),
 * and the sequence in `sequenceField` when one is given (sequenced mode).
 */
export function encodeRequest(request: PendingRequest, sequenceField?: SequenceField, sequence?: number): Uint8Array {
  const init: PacketInit = { ...request.fields, code: request.code };
  init.cmdDataBits0 = ((request.fields?.cmdDataBits0 ?? 0) | Flags.TRIGGER_CALL_BACK) >>> 0;
  if (sequenceField !== undefined) init[sequenceField] = sequence;
  if (request.payload !== undefined) init.payload = request.payload;
  return encodePacket(init);
}
