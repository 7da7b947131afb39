/** Stable machine-readable error codes, one per error class. */
export type FlamingoErrorCode = 'FRAME' | 'TIMEOUT' | 'CLOSED' | 'PROTOCOL' | 'ABORTED' | 'QUEUE' | 'ARGUMENT' | 'BUSY';

/** Base of every error this library throws or emits. */
export class FlamingoError extends Error {
  /** Stable code to branch on instead of the message text. */
  readonly code: FlamingoErrorCode;
  constructor(code: FlamingoErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** The byte stream broke the framing rules: a bad marker, or a payload claim over the limit. */
export class FrameError extends FlamingoError {
  /** Stream offset (bytes consumed before this header) where the problem was found, when known. */
  readonly offset: number | undefined;
  /** The payload length the header claimed, for over-limit claims. */
  readonly claimedBytes: number | undefined;
  constructor(message: string, details: { offset?: number; claimedBytes?: number; cause?: unknown } = {}) {
    super('FRAME', message, { cause: details.cause });
    this.offset = details.offset;
    this.claimedBytes = details.claimedBytes;
  }
}

/** Which request an error is about. */
export interface RequestErrorContext {
  /** Command name, e.g. `STAGE_POSITION_GET` (or `UNKNOWN_0x....`). */
  command?: string;
  /** Sequence number stamped on the request in sequenced mode; undefined otherwise. */
  sequence?: number;
  cause?: unknown;
}

/** Base of the errors a client call settles with: names the command and the sequence. */
export abstract class RequestError extends FlamingoError {
  /** Command name the error is about, when there is one. */
  readonly command: string | undefined;
  /** Sequence number of the request (sequenced mode), when there is one. */
  readonly sequence: number | undefined;
  constructor(code: FlamingoErrorCode, message: string, context: RequestErrorContext) {
    super(code, message, context.cause === undefined ? undefined : { cause: context.cause });
    this.command = context.command;
    this.sequence = context.sequence;
  }
}

/**
 * A call's arguments are invalid; nothing was sent. Lives in protocol/ because pure code
 * (workflow building, text formats) refuses bad input with it before any I/O happens.
 */
export class ArgumentError extends RequestError {
  constructor(message: string, command?: string) {
    super('ARGUMENT', message, command === undefined ? {} : { command });
  }
}

/**
 * A packet field of the wrong type (e.g. `data: 5`, `payload: 'text'`): the encoder refuses
 * it instead of writing a zeroed field. A RangeError, like every other field the encoder
 * refuses, with the library's `code` for arguments.
 */
export class PacketFieldError extends RangeError {
  readonly code = 'ARGUMENT' as const;
  constructor(message: string) {
    super(message);
    this.name = 'PacketFieldError';
  }
}
