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
