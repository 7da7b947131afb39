import { lostWithLink } from '../correlation/wire.js';
import { replyRule } from '../../protocol/command-profile.js';
import { commandName } from '../../protocol/commands.js';
import { u32At } from '../../protocol/codec.js';
import { END_MARKER, Offset, PACKET_SIZE, START_MARKER } from '../../protocol/constants.js';
import type { SequenceField } from '../../protocol/packet.js';
import type { OpenRequests } from '../correlation/open-requests.js';
import { PendingRequest } from '../correlation/pending.js';
import type { RequestFields } from '../correlation/pending.js';
import { ArgumentError } from '../errors.js';
import { checkFields, checkTimeout, resolveCode } from './fields.js';
import type { CommandRef } from './fields.js';
import type { RequestOptions } from './options.js';

/**
 * The code of a request's command, after every check that needs no connection: a known
 * code, fields in range, a sane timeout and payload, a command that is answered at all,
 * and no caller value in the sequence field in sequenced mode (`sequenceField` given).
 * Returns plain values and builds no object: it runs once per request.
 * @throws ArgumentError (nothing is sent).
 */
export function checkRequest(command: CommandRef, fields: RequestFields | undefined, options: RequestOptions, sequenceField: SequenceField | null): number {
  const code = resolveCode(command);
  checkFields(code, fields);
  if (options.timeoutMs !== undefined) checkTimeout('timeoutMs', options.timeoutMs, commandName(code));
  if (options.payload !== undefined && !(options.payload instanceof Uint8Array)) throw new ArgumentError('payload must be a Uint8Array', commandName(code));
  if (options.header !== undefined && !isHeaderOf(options.header, code, options.payload?.length ?? 0)) throw badHeader(commandName(code));
  if (replyRule(code) === 'never') throw neverAnswered(commandName(code));
  if (sequenceField !== null && (fields?.[sequenceField] ?? 0) !== 0) {
    throw new ArgumentError(`${sequenceField} carries the sequence number in sequenced mode; leave it unset`, commandName(code));
  }
  return code;
}

/** RequestOptions.header (or a forwarded packet's header) is not the request's. */
export function badHeader(command: string): ArgumentError {
  return new ArgumentError(`header must be the 128-byte header of ${command} announcing the payload's length`, command);
}

/** A request of a command the instrument never answers. */
export function neverAnswered(command: string): ArgumentError {
  return new ArgumentError(`${command} is never answered by the instrument (spec/commands.json reply "never"); use send()`, command);
}

/**
 * A 128-byte array with both markers, `code` in its code field and the payload's length in
 * addDataBytes (RequestOptions.header): a wrong length would desynchronise the stream.
 */
export function isHeaderOf(header: unknown, code: number, payloadLength: number): boolean {
  if (!(header instanceof Uint8Array) || header.length !== PACKET_SIZE) return false;
  return (
    u32At(header, Offset.startMarker) === START_MARKER &&
    u32At(header, Offset.endMarker) === END_MARKER &&
    u32At(header, Offset.code) === code &&
    u32At(header, Offset.addDataBytes) === payloadLength
  );
}

/** A pending request for a checked command (see {@link checkRequest}). */
export function newRequest(
  code: number,
  name: string,
  fields: RequestFields | undefined,
  options: RequestOptions,
  defaultTimeoutMs: number,
  insideExclusive: boolean,
  onCallbackError: (error: unknown) => void,
): PendingRequest {
  return new PendingRequest({
    code,
    name,
    fields,
    payload: options.payload,
    timeoutMs: options.timeoutMs ?? defaultTimeoutMs,
    expectOk: options.expectOk ?? false,
    signal: options.signal,
    insideExclusive,
    onUploadProgress: options.onUploadProgress,
    onWritten: options.onWritten,
    header: options.header,
    onCallbackError,
  });
}

/** The link is gone: every open request fails with ConnectionClosedError, saying whether it was on the wire. */
export function rejectAll(open: OpenRequests, cause: Error | undefined): void {
  for (const request of open.snapshot()) request.fail(lostWithLink(request, cause));
}
