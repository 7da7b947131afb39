import { RequestError, type RequestErrorContext } from '../protocol/errors.js';

// RequestError and ArgumentError live in protocol/ so that pure code (text formats, argument
// checks) can throw the same classes the client does; they are re-exported here unchanged.
export { ArgumentError, RequestError, type RequestErrorContext } from '../protocol/errors.js';
import type { Packet } from '../protocol/packet.js';

/** No reply (or no awaited event) within the time allowed, counted from when the request was written. */
export class TimeoutError extends RequestError {
  /** The time that elapsed, in milliseconds. */
  readonly timeoutMs: number;
  constructor(command: string, timeoutMs: number, context: Omit<RequestErrorContext, 'command'> = {}) {
    super('TIMEOUT', `${command} got no reply within ${timeoutMs} ms`, { ...context, command });
    this.timeoutMs = timeoutMs;
  }
}

/** The connection closed (or was lost) before the request settled. */
export class ConnectionClosedError extends RequestError {
  /**
   * True when the request had been written when the link went down: the instrument may
   * have executed it (a stage move may be running). Such a request is never replayed.
   */
  readonly maybeExecuted: boolean;
  constructor(message: string, maybeExecuted: boolean, context: RequestErrorContext = {}) {
    super('CLOSED', message, context);
    this.maybeExecuted = maybeExecuted;
  }
}

/** The instrument answered with a failure status (or a reply a helper cannot use). */
export class ProtocolError extends RequestError {
  /** The reply (or event) that reported the failure. */
  readonly reply: Packet;
  constructor(message: string, reply: Packet, context: RequestErrorContext = {}) {
    super('PROTOCOL', message, context);
    this.reply = reply;
  }
}

/** The caller's AbortSignal fired before the request settled. */
export class AbortError extends RequestError {
  constructor(command: string, context: Omit<RequestErrorContext, 'command'> = {}) {
    super('ABORTED', `${command} was aborted`, { ...context, command });
  }
}

/**
 * A request waited too long for its turn (the lease, the in-flight window, an exclusive
 * section, or a link that is down) and was never written.
 */
export class QueueTimeoutError extends RequestError {
  readonly timeoutMs: number;
  constructor(command: string, timeoutMs: number, context: Omit<RequestErrorContext, 'command'> = {}) {
    super('QUEUE', `${command} waited ${timeoutMs} ms for its turn and was not sent`, { ...context, command });
    this.timeoutMs = timeoutMs;
  }
}

/** Too many requests are already waiting for their turn; this one was not queued. */
export class QueueFullError extends RequestError {
  readonly limit: number;
  constructor(command: string, limit: number) {
    super('QUEUE', `${command} not queued: ${limit} requests are already waiting`, { command });
    this.limit = limit;
  }
}
