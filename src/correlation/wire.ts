import createDebug from 'debug';
import { encodeHeaderInto } from '../../protocol/codec.js';
import { PACKET_SIZE } from '../../protocol/constants.js';
import { Flags } from '../../protocol/flags.js';
import type { Packet, PacketInit, SequenceField } from '../../protocol/packet.js';
import { WRITE_ACCEPTED } from '../../transports/transport.js';
import { ConnectionClosedError } from '../errors.js';
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

/**
 * Header of a request (its payload, if any, follows it through Wire.write): its fields,
 * TRIGGER_CALL_BACK (a server replies only to that flag), and the sequence in
 * `sequenceField` when one is given (sequenced mode). Encoded by the codec's one header
 * encoder (protocol/codec.ts), so a request is byte for byte what encodePacket gives for
 * the same fields (test/unit/client-encode.test.ts).
 */
export function encodeRequest(request: PendingRequest, sequenceField?: SequenceField, sequence?: number): Uint8Array {
  const f = request.fields;
  const init: PacketInit = {
    ...f,
    code: request.code,
    cmdDataBits0: ((f?.cmdDataBits0 ?? 0) | Flags.TRIGGER_CALL_BACK) >>> 0,
    // Header only: the payload is written after it by Wire.write, in chunks, without copying it.
    addDataBytes: request.payload?.length ?? 0,
  };
  if (sequenceField !== undefined && sequence !== undefined) init[sequenceField] = sequence;
  const out = new Uint8Array(PACKET_SIZE);
  encodeHeaderInto(init, out);
  return out;
}

/** {@link encodeRequest}, failing the request instead of throwing on a field it cannot encode. */
export function encodeOrFail(request: PendingRequest, sequenceField?: SequenceField, sequence?: number): Uint8Array | null {
  try {
    return encodeRequest(request, sequenceField, sequence);
  } catch (error) {
    request.fail(error as Error);
    return null;
  }
}

/**
 * Hand a request's encoded header (and its payload) to the wire. The reply timer starts
 * when the transport has taken the last byte: at once for the common accepted write (no
 * promise reaction), else when the write settles; a closed link fails the request as never
 * written (`maybeExecuted: false`). Shared by both correlation modes.
 */
export function writeRequest(wire: Wire, request: PendingRequest, bytes: Uint8Array, sequence?: number): void {
  const attempt = ++request.writeAttempt;
  // Guarded: with the namespace off no string or argument list is built (docs/observability.md).
  if (wireLog.enabled) {
    if (sequence !== undefined) wireLog('write %s (0x%s) sequence %d, %d payload bytes', request.name, request.code.toString(16), sequence, request.payload?.length ?? 0);
    else wireLog('write %s (0x%s) under the lease, %d payload bytes', request.name, request.code.toString(16), request.payload?.length ?? 0);
  }
  const written = wire.write(bytes, request);
  if (written === WRITE_ACCEPTED) {
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
