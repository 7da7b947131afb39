/** Receives what a transport reads. A transport has exactly one handler: one reader per connection. */
export interface TransportHandler {
  /** A chunk of bytes, in stream order. The chunk is the handler's to keep. */
  data(chunk: Uint8Array): void;
  /** The connection is gone; `error` is set when it did not end cleanly. Called once. */
  close(error: Error | undefined): void;
}

/**
 * A byte stream to a peer: TCP, or an in-memory pair for tests. The protocol layers above
 * know only this interface.
 */
export interface Transport {
  /** Human-readable peer, e.g. `127.0.0.1:53717` or `memory#3`. */
  readonly description: string;
  /** True once the connection is closed or destroyed (or the peer closed it). */
  readonly isClosed: boolean;
  /**
   * Install the one reader. Bytes that arrived before are delivered first, in order.
   * @throws Error when a handler is already attached: a second reader would steal replies.
   */
  attach(handler: TransportHandler): void;
  /**
   * Queue bytes for the peer, as a Node socket's `write` does. The bytes are taken either
   * way (never lost while the transport is open); the answer is whether the transport still
   * has room: `false` means its buffer is over the high-water mark and the caller should wait
   * for {@link Transport.whenWritable} before writing more (write backpressure).
   * The transport may keep a reference to `bytes` until they are sent (a socket does not
   * copy them), so the caller must not modify them afterwards: write a fresh buffer.
   * @throws TransportClosedError when the transport is closed: nothing was taken.
   */
  write(bytes: Uint8Array): boolean;
  /**
   * Resolves once the transport's buffer is below its high-water mark again (at once when it
   * is already; the equivalent of a socket's 'drain'); rejects with TransportClosedError when
   * the transport closes first.
   */
  whenWritable(): Promise<void>;
  /** Stop delivering data until resume() (the peer's writes then back up). */
  pause(): void;
  resume(): void;
  /** End the connection cleanly after pending writes; resolves when it is closed. */
  close(): Promise<void>;
  /** Close at once, dropping pending writes. */
  destroy(error?: Error): void;
}

/**
 * Write `bytes` and resolve once `transport` has room again: for callers that send a few
 * packets and await each (probes, replays, tools), not for the per-request path, which
 * checks `write`'s answer and waits only when it is false. Rejects (never throws) when the
 * transport is closed.
 */
export function writeAndWaitForRoom(transport: Transport, bytes: Uint8Array): Promise<void> {
  try {
    return transport.write(bytes) ? Promise.resolve() : transport.whenWritable();
  } catch (error) {
    return Promise.reject(error);
  }
}

/** Error for a write or connect on a transport that is closed. */
export class TransportClosedError extends Error {
  readonly code = 'CLOSED' as const;
  constructor(description: string, options?: { cause?: unknown }) {
    super(`connection to ${description} is closed`, options);
    this.name = 'TransportClosedError';
  }
}

/**
 * Shared bookkeeping of every transport: the single handler, data that arrives before it
 * is attached, and delivering `close` exactly once.
 */
export abstract class TransportBase implements Transport {
  abstract readonly description: string;
  private handler: TransportHandler | null = null;
  private early: Uint8Array[] = [];
  private closeError: Error | undefined;
  private closedFlag = false;
  private closeDelivered = false;
  private closeWaiters: (() => void)[] = [];

  get isClosed(): boolean {
    return this.closedFlag;
  }

  attach(handler: TransportHandler): void {
    if (this.handler !== null) throw new Error(`${this.description} already has a reader; one reader per connection`);
    this.handler = handler;
    const early = this.early;
    this.early = [];
    for (const chunk of early) handler.data(chunk);
    if (this.closedFlag) this.deliverClose();
  }

  /** Subclasses call this for every chunk read. */
  protected received(chunk: Uint8Array): void {
    if (this.handler !== null) this.handler.data(chunk);
    else this.early.push(chunk);
  }

  /** Subclasses call this once the connection is gone (safe to call more than once). */
  protected closed(error?: Error): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.closeError = error;
    if (this.handler !== null) this.deliverClose();
    const waiters = this.closeWaiters;
    this.closeWaiters = [];
    for (const w of waiters) w();
  }

  /** A promise that settles once closed() has run. */
  protected whenClosed(): Promise<void> {
    if (this.closedFlag) return Promise.resolve();
    return new Promise((resolve) => this.closeWaiters.push(resolve));
  }

  private deliverClose(): void {
    if (this.closeDelivered || this.handler === null) return;
    this.closeDelivered = true;
    this.handler.close(this.closeError);
  }

  abstract write(bytes: Uint8Array): boolean;
  abstract whenWritable(): Promise<void>;
  abstract pause(): void;
  abstract resume(): void;
  abstract close(): Promise<void>;
  abstract destroy(error?: Error): void;
}
