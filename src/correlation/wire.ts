import { DATA_SIZE, END_MARKER, Offset, PACKET_SIZE, START_MARKER } from '../../protocol/constants.js';
import { Flags } from '../../protocol/flags.js';
import type { Packet, SequenceField } from '../../protocol/packet.js';
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
  /** Resolves true when the link is up (at once if it is), false when the client is finished. */
  whenUp(): Promise<boolean>;
  /** The gate of `exclusive()`: while closed, only requests made inside it are written. */
  readonly gateClosed: boolean;
}

const utf8 = new TextEncoder();

/**
 * Header of a request (its payload, if any, follows it through Wire.write): its fields,
 * TRIGGER_CALL_BACK (a server replies only to that flag), and the sequence in
 * `sequenceField` when one is given (sequenced mode).
 *
 * The request path's encoder: writes the 128 bytes directly, with no intermediate init
 * object (the fields were range-checked when the request was made, by checkFields). Byte
 * for byte what encodePacket gives for the same fields (test/unit/client-encode.test.ts).
 */
export function encodeRequest(request: PendingRequest, sequenceField?: SequenceField, sequence?: number): Uint8Array {
  const f = request.fields;
  const out = new Uint8Array(PACKET_SIZE);
  const view = new DataView(out.buffer);
  view.setUint32(Offset.startMarker, START_MARKER, true);
  view.setUint32(Offset.code, request.code, true);
  let flags = Flags.TRIGGER_CALL_BACK;
  if (f !== undefined) {
    if (f.status !== undefined) view.setUint32(Offset.status, f.status, true);
    if (f.hardwareId !== undefined) view.setUint32(Offset.hardwareId, f.hardwareId, true);
    if (f.subsystemId !== undefined) view.setUint32(Offset.subsystemId, f.subsystemId, true);
    if (f.clientId !== undefined) view.setUint32(Offset.clientId, f.clientId, true);
    if (f.int32Data0 !== undefined) view.setInt32(Offset.int32Data0, f.int32Data0, true);
    if (f.int32Data1 !== undefined) view.setInt32(Offset.int32Data1, f.int32Data1, true);
    if (f.int32Data2 !== undefined) view.setInt32(Offset.int32Data2, f.int32Data2, true);
    if (f.value !== undefined) view.setFloat64(Offset.value, f.value, true);
    if (f.cmdDataBits0 !== undefined) flags = (flags | f.cmdDataBits0) >>> 0;
    const data = f.data;
    if (data !== undefined) {
      const field = out.subarray(Offset.data, Offset.endMarker);
      if (typeof data === 'string') {
        const { read } = utf8.encodeInto(data, field);
        if (read < data.length) throw new RangeError(`data field holds at most ${DATA_SIZE} bytes`);
      } else {
        if (data.length > DATA_SIZE) throw new RangeError(`data field holds at most ${DATA_SIZE} bytes, got ${data.length}`);
        field.set(data);
      }
    }
  }
  view.setUint32(Offset.cmdDataBits0, flags >>> 0, true);
  if (sequenceField !== undefined && sequence !== undefined) view.setUint32(Offset[sequenceField], sequence, true);
  // Header only: the payload is written after it by Wire.write, in chunks, without copying it.
  if (request.payload !== undefined) view.setUint32(Offset.addDataBytes, request.payload.length, true);
  view.setUint32(Offset.endMarker, END_MARKER, true);
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
  const written = wire.write(bytes, request);
  if (written === WRITE_ACCEPTED) {
    request.markWritten();
    return;
  }
  written.then(
    () => request.markWritten(),
    (error: unknown) =>
      request.fail(
        new ConnectionClosedError(`${request.name} could not be written: the connection is closed`, false, {
          command: request.name,
          ...(sequence !== undefined ? { sequence } : {}),
          cause: error,
        }),
      ),
  );
}
