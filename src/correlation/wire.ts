import createDebug from 'debug';
import { Offset } from '../../protocol/constants.js';
import { HeaderSlab, type HeaderStamp } from '../../protocol/header-slab.js';
import { Flags } from '../../protocol/flags.js';
import type { SequenceField } from '../../protocol/packet.js';
import { ConnectionClosedError } from '../errors.js';
import type { PendingRequest } from './pending.js';

/** What {@link Wire.write} answers: `true` when the bytes were taken at once, else when they will be. */
export type WriteResult = true | Promise<void>;

/** What correlation needs of the connection: writing, and whether the link is up. */
export interface Wire {
  /** The link is connected (false while reconnecting or after close). */
  readonly up: boolean;
  /**
   * Write a request's header and then its trailing payload (`request.payload`, which the
   * header only announces), contiguous. `true`: the transport took the last byte and still
   * has room (the common case, answered without a promise); otherwise a promise that resolves
   * once it has taken them with room to spare (behind an upload, or after a full buffer
   * drained) and rejects when the link is down or closes first. Never throws. `request` is
   * told to the state mirror just before the first byte goes out.
   */
  write(bytes: Uint8Array, request?: PendingRequest): WriteResult;
  /** A written request's reply did not come in time (statistics). */
  timedOut?(request: PendingRequest): void;
  /** Lease mode wrote a fence (statistics). */
  fenced?(fence: PendingRequest): void;
  /** Resolves true when the link is up (at once if it is), false when the client is finished. */
  whenUp(): Promise<boolean>;
  /** The gate of `exclusive()`: while closed, only requests made inside it are written. */
  readonly gateClosed: boolean;
}

/** Routing log of what goes on the wire (`DEBUG=flamingo:wire`). */
const wireLog = createDebug('flamingo:wire');

/** Request headers are slices of shared slabs (protocol/header-slab.ts): no buffer of their own each. */
const requestHeaders = new HeaderSlab();
/** Reused for every request: HeaderSlab.encode reads it at once. */
const stamp: HeaderStamp = { flags: Flags.TRIGGER_CALL_BACK, addDataBytes: 0, sequenceOffset: -1, sequence: 0 };

/**
 * Header of a request (its payload, if any, follows it through Wire.write): its fields,
 * TRIGGER_CALL_BACK (a server replies only to that flag), and the sequence in
 * `sequenceField` when one is given (sequenced mode). Encoded by the codec's one header
 * encoder (protocol/codec.ts), so a request is byte for byte what encodePacket gives for
 * the same fields (test/unit/client-encode.test.ts). The result is a 128-byte view into a
 * shared slab (protocol/header-slab.ts) that is never written again: `slice()` it to keep it
 * without keeping the slab.
 */
export function encodeRequest(request: PendingRequest, sequenceField?: SequenceField, sequence?: number): Uint8Array {
  // The caller's fields and code (`request.init`, already built for the state mirror) go
  // through the one encoder, which checks every field; the three fields correlation owns are
  // then set in place by the one offset table, without a per-request copy of the fields.
  // Header only: the payload is written after it by Wire.write, in chunks, without copying it.
  stamp.addDataBytes = request.payload?.length ?? 0;
  const sequenced = sequenceField !== undefined && sequence !== undefined;
  stamp.sequenceOffset = sequenced ? Offset[sequenceField] : -1;
  stamp.sequence = sequenced ? sequence : 0;
  return requestHeaders.encode(request.init, stamp);
}

/** {@link encodeRequest}, failing the request instead of throwing on a field it cannot encode. */
export function encodeOrFail(request: PendingRequest, sequenceField?: SequenceField, sequence?: number): Uint8Array | null {
  if (request.header !== undefined) return stampHeader(request.header, request.writeAttempt, sequenceField, sequence);
  try {
    return encodeRequest(request, sequenceField, sequence);
  } catch (error) {
    request.fail(error as Error);
    return null;
  }
}

/**
 * A header the caller encoded already (RequestOptions.header): only the sequence is stamped
 * (sequenced mode). Written once already (a request re-queued after a lost link), the bytes
 * may still sit in the dead transport's queue, so a copy is stamped instead.
 */
function stampHeader(header: Uint8Array, writeAttempt: number, sequenceField?: SequenceField, sequence?: number): Uint8Array {
  if (sequenceField === undefined || sequence === undefined) return header;
  // A copy by construction, not slice(): a Node Buffer's slice() is a view of the same bytes.
  const out = writeAttempt > 0 ? new Uint8Array(header) : header;
  // Byte by byte (little-endian u32): a DataView per request costs more than the rest.
  const at = Offset[sequenceField];
  out[at] = sequence & 0xff;
  out[at + 1] = (sequence >>> 8) & 0xff;
  out[at + 2] = (sequence >>> 16) & 0xff;
  out[at + 3] = sequence >>> 24;
  return out;
}

/**
 * Hand a request's encoded header (and its payload) to the wire. The reply timer starts
 * when the transport has taken the last byte with room to spare: at once for the common
 * write (no promise reaction), else when the write settles; a closed link fails the request as never
 * written (`maybeExecuted: false`). Shared by both correlation modes.
 */
export function writeRequest(wire: Wire, request: PendingRequest, bytes: Uint8Array, sequence?: number): void {
  const attempt = ++request.writeAttempt;
  // Guarded: with the namespace off no string or argument list is built (docs/observability.md).
  if (wireLog.enabled) {
    if (sequence !== undefined)
      wireLog('write %s (0x%s) sequence %d, %d payload bytes', request.name, request.code.toString(16), sequence, request.payload?.length ?? 0);
    else wireLog('write %s (0x%s) under the lease, %d payload bytes', request.name, request.code.toString(16), request.payload?.length ?? 0);
  }
  const written = wire.write(bytes, request);
  if (written === true) {
    request.markWritten();
    return;
  }
  written.then(
    () => {
      if (request.writeAttempt === attempt) request.markWritten();
    },
    (error: unknown) => {
      // Re-queued for the next link meanwhile (never started on this one): not a failure.
      if (request.writeAttempt !== attempt) return;
      request.fail(
        new ConnectionClosedError(`${request.name} could not be written: the connection is closed`, request.started, {
          command: request.name,
          ...(sequence !== undefined ? { sequence } : {}),
          cause: error,
        }),
      );
    },
  );
}

/** The link dropped: the error of a request that was handed to it (maybe executed only if a byte went out). */
export function lostWithLink(request: PendingRequest, cause: Error | undefined): ConnectionClosedError {
  return new ConnectionClosedError(
    request.started ? `connection lost while ${request.name} was in flight` : `${request.name} was not sent: the connection closed before its turn on the wire`,
    request.started,
    { command: request.name, ...request.context(), cause },
  );
}
