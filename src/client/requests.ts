import { lostWithLink } from '../correlation/wire.js';
import { replyRule } from '../../protocol/command-profile.js';
import { commandName } from '../../protocol/commands.js';
import { END_MARKER, Offset, PACKET_SIZE, START_MARKER } from '../../protocol/constants.js';
import type { CorrelationMode } from '../../protocol/domain.js';
import type { SequenceField } from '../../protocol/packet.js';
import { PendingRequest } from '../correlation/pending.js';
import type { RequestFields } from '../correlation/pending.js';
import { ArgumentError } from '../errors.js';
import { checkFields, checkTimeout, resolveCode } from './fields.js';
import type { CommandRef } from './fields.js';
import type { RequestOptions } from './options.js';

/** What {@link newRequest} needs to know of the client. */
export interface RequestContext {
  mode: CorrelationMode;
  sequenceField: SequenceField;
  requestTimeoutMs: number;
  insideExclusive: boolean;
}

/**
 * The name of a request's command, after every check that needs no connection: a known
 * code, fields in range, a sane timeout and payload, a command that is answered at all,
 * and no caller value in the sequence field in sequenced mode.
 * @throws ArgumentError (nothing is sent).
 */
export function checkRequest(
  command: CommandRef,
  fields: RequestFields | undefined,
  options: RequestOptions,
  context: RequestContext,
): { code: number; name: string } {
  const code = resolveCode(command);
  const name = commandName(code);
  checkFields(code, fields);
  checkTimeout('timeoutMs', options.timeoutMs, name);
  if (options.payload !== undefined && !(options.payload instanceof Uint8Array)) throw new ArgumentError('payload must be a Uint8Array', name);
  if (options.header !== undefined && !isHeaderOf(options.header, code)) throw new ArgumentError(`header must be the 128-byte header of ${name}`, name);
  if (replyRule(code) === 'never') throw new ArgumentError(`${name} is never answered by the instrument (spec/commands.json reply "never"); use send()`, name);
  const field = context.sequenceField;
  if (context.mode === 'sequenced' && (fields?.[field] ?? 0) !== 0) {
    throw new ArgumentError(`${field} carries the sequence number in sequenced mode; leave it unset`, name);
  }
  return { code, name };
}

/** A 128-byte array with both markers and `code` in its code field (RequestOptions.header). */
function isHeaderOf(header: unknown, code: number): boolean {
  if (!(header instanceof Uint8Array) || header.length !== PACKET_SIZE) return false;
  // Byte reads, not a DataView: this runs for every request the gateway forwards.
  const u32 = (at: number): number =>
    ((header[at] as number) | ((header[at + 1] as number) << 8) | ((header[at + 2] as number) << 16) | ((header[at + 3] as number) << 24)) >>> 0;
  return u32(Offset.startMarker) === START_MARKER && u32(Offset.endMarker) === END_MARKER && u32(Offset.code) === code;
}

/** A pending request for a checked command (see {@link checkRequest}). */
export function newRequest(code: number, name: string, fields: RequestFields | undefined, options: RequestOptions, context: RequestContext): PendingRequest {
  return new PendingRequest({
    code,
    name,
    fields,
    payload: options.payload,
    timeoutMs: options.timeoutMs ?? context.requestTimeoutMs,
    expectOk: options.expectOk ?? false,
    signal: options.signal,
    insideExclusive: context.insideExclusive,
    onUploadProgress: options.onUploadProgress,
    onWritten: options.onWritten,
    header: options.header,
  });
}

/** The link is gone: every open request fails with ConnectionClosedError, saying whether it was on the wire. */
export function rejectAll(open: ReadonlySet<PendingRequest>, cause: Error | undefined): void {
  for (const request of [...open]) request.fail(lostWithLink(request, cause));
}
