import { EventEmitter } from 'eventemitter3';
import { FlamingoError } from '../../protocol/errors.js';
import { FrameDeframer, type ImageFrame, type ImageHeader } from '../../protocol/image.js';
import { connectTcp } from '../../transports/tcp.js';
import type { Transport } from '../../transports/transport.js';

/** Options of {@link LiveStream} over an existing transport. */
export interface LiveStreamOptions {
  /** Frames kept for a consumer that has not asked yet (default 4). When full, the oldest is dropped. */
  maxBuffered?: number;
  /** Largest accepted frame in bytes (default 64 MiB); a larger header ends the stream. */
  maxImageBytes?: number;
}

/** Options of {@link openLiveStream}. */
export interface OpenLiveStreamOptions extends LiveStreamOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** The live-image port: the command port + 1 on an instrument (53718 by default there). */
  port: number;
  /** Give up connecting after this long (default 2000 ms). */
  connectTimeoutMs?: number;
  /** Abort the connect attempt. */
  signal?: AbortSignal;
}

/** Events of {@link LiveStream}. */
export interface LiveStreamEvents {
  /** Every frame as it arrives, before buffering (for consumers that do not iterate). */
  frame: [ImageFrame];
  /** An options-only header (image size 0) arrived: the latest display options. Not a frame. */
  options: [ImageHeader];
  /** A buffered frame was dropped to make room for a newer one. */
  drop: [ImageFrame];
  /** The stream failed (FrameError for an impossible header, or the connection's error). */
  error: [Error];
  /** The stream ended: by close(), by the peer, or after an error. Emitted once. */
  close: [Error | undefined];
}

/**
 * The live-image stream of one connection, as an async iterator of frames. Frames are read
 * as fast as they arrive and kept in a bounded buffer: when the consumer falls behind, the
 * oldest buffered frame is dropped (and counted) so it always gets recent pictures and
 * memory stays bounded. The iterator ends when the connection ends; after an error it
 * yields the frames already buffered and then throws the error.
 *
 * A header with image size 0 carries display options only (spec/protocol.md §9): it is
 * kept as `options`, announced as `'options'`, and is neither a frame nor the end.
 */
export class LiveStream extends EventEmitter<LiveStreamEvents> implements AsyncIterableIterator<ImageFrame> {
  readonly maxBuffered: number;
  /** Frames received so far (pictures only): the local frame count, since the header carries none. */
  received = 0;
  /** Options-only headers received so far. */
  optionsUpdates = 0;
  /** The display options of the latest options-only header, or undefined before the first. */
  options: ImageHeader | undefined;
  /** Frames dropped from the buffer because the consumer was behind. */
  dropped = 0;
  private readonly transport: Transport;
  private readonly deframer: FrameDeframer;
  // Ring buffer: fixed slots, so a full buffer drops and adds without shifting an array.
  private readonly ring: (ImageFrame | undefined)[];
  private head = 0;
  private count = 0;
  private waiters: { resolve: (r: IteratorResult<ImageFrame>) => void; reject: (e: Error) => void }[] = [];
  private ended = false;
  private failure: Error | undefined;
  private failureReported = false;

  constructor(transport: Transport, options: LiveStreamOptions = {}) {
    super();
    this.maxBuffered = options.maxBuffered ?? 4;
    if (!Number.isInteger(this.maxBuffered) || this.maxBuffered < 1) {
      throw new RangeError(`maxBuffered must be a positive integer, got ${this.maxBuffered}`);
    }
    this.ring = new Array<ImageFrame | undefined>(this.maxBuffered);
    this.transport = transport;
    this.deframer = new FrameDeframer(options.maxImageBytes === undefined ? {} : { maxImageBytes: options.maxImageBytes });
    transport.attach({ data: (chunk) => this.onData(chunk), close: (error) => this.finish(error) });
  }

  /** Frames waiting in the buffer now (at most maxBuffered). */
  get buffered(): number {
    return this.count;
  }

  /** True once the stream has ended (closed, peer gone, or failed). */
  get isClosed(): boolean {
    return this.ended;
  }

  /** Peer description, e.g. `127.0.0.1:53718`. */
  get description(): string {
    return this.transport.description;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** The next frame: a buffered one at once, else the next to arrive. */
  next(): Promise<IteratorResult<ImageFrame>> {
    const frame = this.take();
    if (frame !== undefined) return Promise.resolve({ value: frame, done: false });
    if (this.ended) return this.endResult();
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** Stop iterating (a `break` out of `for await` calls this): closes the connection. */
  async return(): Promise<IteratorResult<ImageFrame>> {
    await this.close();
    return { value: undefined, done: true };
  }

  /**
   * The next frame, or a FlamingoError with code 'TIMEOUT' when none arrives within
   * `timeoutMs`, or the stream's error, or a 'CLOSED' error when the stream ends first.
   */
  nextFrame(timeoutMs: number): Promise<ImageFrame> {
    const frame = this.take();
    if (frame !== undefined) return Promise.resolve(frame);
    const closedError = () => new FlamingoError('CLOSED', `live-image stream from ${this.description} ended`);
    if (this.ended) {
      return this.endResult().then((result) => {
        if (result.done === true) throw closedError();
        return result.value;
      });
    }
    return new Promise((resolve, reject) => {
      const waiter = {
        resolve: (result: IteratorResult<ImageFrame>) => {
          clearTimeout(timer);
          if (result.done === true) reject(closedError());
          else resolve(result.value);
        },
        reject: (error: Error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      // On timeout the waiter leaves the queue, so the next frame is not handed to nobody.
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new FlamingoError('TIMEOUT', `no live image from ${this.description} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Close the connection; pending next() calls end (done). Idempotent. */
  async close(): Promise<void> {
    this.discardBuffer();
    this.finish(undefined);
    await this.transport.close();
  }

  private onData(chunk: Uint8Array): void {
    if (this.ended) return;
    let frames: ImageFrame[];
    try {
      frames = this.deframer.push(chunk);
    } catch (error) {
      // The stream has no markers to resynchronise on: an impossible header ends it.
      // finish() before destroy(): destroying reports a plain close, which must not win.
      this.finish(error instanceof Error ? error : new Error(String(error)));
      this.transport.destroy();
      return;
    }
    for (const frame of frames) {
      if (frame.pixels.length === 0) this.updateOptions(frame.header);
      else this.deliver(frame);
    }
    // The deframer hands over the frames completed before an impossible header and
    // reports the header as its failure: those frames are delivered, then the stream ends.
    const failure = this.deframer.failure;
    if (failure !== null) {
      this.finish(failure);
      this.transport.destroy();
    }
  }

  private updateOptions(header: ImageHeader): void {
    this.optionsUpdates++;
    this.options = header;
    this.emit('options', header);
  }

  private deliver(frame: ImageFrame): void {
    this.received++;
    this.emit('frame', frame);
    const waiter = this.waiters.shift();
    if (waiter !== undefined) {
      waiter.resolve({ value: frame, done: false });
      return;
    }
    if (this.count === this.maxBuffered) {
      const oldest = this.ring[this.head];
      this.ring[this.head] = undefined;
      this.head = (this.head + 1) % this.maxBuffered;
      this.count--;
      this.dropped++;
      if (oldest !== undefined) this.emit('drop', oldest);
    }
    this.ring[(this.head + this.count) % this.maxBuffered] = frame;
    this.count++;
  }

  private take(): ImageFrame | undefined {
    if (this.count === 0) return undefined;
    const frame = this.ring[this.head];
    this.ring[this.head] = undefined;
    this.head = (this.head + 1) % this.maxBuffered;
    this.count--;
    return frame;
  }

  private discardBuffer(): void {
    this.ring.fill(undefined);
    this.head = 0;
    this.count = 0;
  }

  private finish(error: Error | undefined): void {
    if (this.ended) return;
    this.ended = true;
    this.failure = error;
    if (error !== undefined) this.emit('error', error);
    // Waiters exist only while the buffer is empty, so they get the end (or the error) now.
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) {
      if (error !== undefined && !this.failureReported) {
        this.failureReported = true;
        w.reject(error);
      } else w.resolve({ value: undefined, done: true });
    }
    this.emit('close', error);
  }

  /** After the end: the error once (to whoever asks first), then done. */
  private endResult(): Promise<IteratorResult<ImageFrame>> {
    if (this.failure !== undefined && !this.failureReported) {
      this.failureReported = true;
      return Promise.reject(this.failure);
    }
    return Promise.resolve({ value: undefined, done: true });
  }
}

/**
 * Connect to a live-image port and return its frames as a {@link LiveStream}.
 * @throws ConnectError naming host:port when the connection cannot be made.
 */
export async function openLiveStream(options: OpenLiveStreamOptions): Promise<LiveStream> {
  const transport = await connectTcp({
    host: options.host ?? '127.0.0.1',
    port: options.port,
    ...(options.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: options.connectTimeoutMs }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  return new LiveStream(transport, options);
}
