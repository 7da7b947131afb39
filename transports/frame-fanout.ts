import { IMAGE_HEADER_SIZE } from '../protocol/image.js';
import { type Transport, writeAndWaitForRoom } from './transport.js';

/** Counters of one connected live-image viewer. */
export interface LiveViewerStats {
  readonly description: string;
  /** Frames (pictures) fully handed to the transport. */
  readonly framesSent: number;
  /** Frames dropped because the viewer was not keeping up. */
  readonly framesDropped: number;
  /** Frames waiting now (never more than the fan-out's maxQueuedFrames). */
  readonly framesQueued: number;
  /** The most frames that ever waited at once. */
  readonly maxFramesQueued: number;
  /** Options-only headers fully handed to the transport. */
  readonly optionsSent: number;
  /** Options-only headers that waited and were replaced by a newer one before being sent. */
  readonly optionsReplaced: number;
}

/**
 * One viewer of a live-image stream and its bounded output queue: a frame is written at
 * once when nothing is being written, else it waits behind the frame being written, and
 * when `maxQueued` frames already wait the OLDEST waiting one is dropped (a live view
 * wants the newest picture; memory per viewer stays bounded).
 *
 * An options-only header (40 bytes, image size 0: spec/protocol.md §9) is not a frame: it
 * neither counts against `maxQueued` nor pushes a picture out. Only the latest display
 * options matter, so at most one waits: a newer one replaces it, at the newer one's place.
 */
export class FrameViewer implements LiveViewerStats {
  framesSent = 0;
  framesDropped = 0;
  maxFramesQueued = 0;
  optionsSent = 0;
  optionsReplaced = 0;
  private readonly queue: Uint8Array[] = [];
  private picturesQueued = 0;
  private writing = false;

  constructor(
    readonly transport: Transport,
    private readonly maxQueued: number,
  ) {}

  get description(): string {
    return this.transport.description;
  }

  get framesQueued(): number {
    return this.picturesQueued;
  }

  /**
   * Send an encoded frame (header + pixels), or queue it, dropping the oldest waiting
   * frame; an options-only header replaces any options-only header still waiting.
   */
  offer(frame: Uint8Array): void {
    if (this.transport.isClosed) return;
    if (!this.writing) {
      this.write(frame);
      return;
    }
    if (isOptionsOnly(frame)) {
      // Linear in the queue, which holds at most maxQueued + 1 entries.
      const waiting = this.queue.findIndex(isOptionsOnly);
      if (waiting >= 0) {
        this.queue.splice(waiting, 1);
        this.optionsReplaced++;
      }
      this.queue.push(frame);
      return;
    }
    if (this.maxQueued === 0) {
      this.framesDropped++;
      return;
    }
    if (this.picturesQueued === this.maxQueued) {
      this.queue.splice(
        this.queue.findIndex((f) => !isOptionsOnly(f)),
        1,
      );
      this.picturesQueued--;
      this.framesDropped++;
    }
    this.queue.push(frame);
    this.picturesQueued++;
    if (this.picturesQueued > this.maxFramesQueued) this.maxFramesQueued = this.picturesQueued;
  }

  private write(frame: Uint8Array): void {
    this.writing = true;
    // The next frame waits until the socket is below its high-water mark again: that is the
    // backpressure that makes a slow viewer's frames wait in (and drop from) the queue.
    writeAndWaitForRoom(this.transport, frame).then(
      () => {
        if (isOptionsOnly(frame)) this.optionsSent++;
        else this.framesSent++;
        const next = this.queue.shift();
        if (next !== undefined && !isOptionsOnly(next)) this.picturesQueued--;
        if (next !== undefined && !this.transport.isClosed) this.write(next);
        else this.writing = false;
      },
      () => {
        // The viewer went away mid-frame; its close handler removes it.
        this.writing = false;
        this.queue.length = 0;
        this.picturesQueued = 0;
      },
    );
  }
}

/** An encoded options-only header: exactly a header, whose image size (bytes 0–3) is 0. */
function isOptionsOnly(encoded: Uint8Array): boolean {
  return encoded.length === IMAGE_HEADER_SIZE && (encoded[0]! | encoded[1]! | encoded[2]! | encoded[3]!) === 0;
}

/**
 * The viewers of one live-image stream: every frame offered goes to each of them through
 * its own bounded queue, so a slow viewer drops frames without holding the others back.
 * Used by the simulator's LiveImageServer and by the gateway's live relay.
 */
export class FrameFanout {
  private readonly set = new Set<FrameViewer>();

  /** @param maxQueuedFrames frames one viewer may have waiting behind the one being written. */
  constructor(readonly maxQueuedFrames: number) {
    if (!Number.isInteger(maxQueuedFrames) || maxQueuedFrames < 0) {
      throw new RangeError(`maxQueuedFrames must be a non-negative integer, got ${maxQueuedFrames}`);
    }
  }

  /** Viewers connected now. */
  get size(): number {
    return this.set.size;
  }

  /** Counters of the viewers connected now. */
  get viewers(): readonly FrameViewer[] {
    return [...this.set];
  }

  /** Add a viewer writing to `transport` (the caller owns reading from it and its close). */
  add(transport: Transport): FrameViewer {
    const viewer = new FrameViewer(transport, this.maxQueuedFrames);
    this.set.add(viewer);
    return viewer;
  }

  /** Forget a viewer; true when it was there. */
  remove(viewer: FrameViewer): boolean {
    return this.set.delete(viewer);
  }

  /** Offer one encoded frame to every viewer. The bytes are shared: nobody may write into them afterwards. */
  offer(frame: Uint8Array): void {
    for (const viewer of this.set) viewer.offer(frame);
  }

  /** Destroy every viewer's transport and forget them all. */
  destroyAll(): void {
    for (const viewer of this.set) viewer.transport.destroy();
    this.set.clear();
  }
}
